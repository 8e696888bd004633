/**
 * The expectation engine: the one function that turns a case and a
 * configuration (machine, firmware, kernel, revision, backend) into what a run
 * must show. `run` (through runCase) and every matrix cell call it.
 *
 * A case's stated rows are its author's evidence for its own configuration:
 * its machine, its firmware (and each firmware it has an onFirmware variant
 * for), the revision it was written for (`revision`, default v5) and, for the
 * guest's view, its kernel. There they win. Elsewhere the layout model gives
 * the rows (and the kernel traits the guest's view), once it has reproduced
 * the stated ones on every own configuration; when it cannot, the expectation
 * is "underivable" with the reason, never a silent pass. Cases with
 * `"expect": {"model": true}` take their rows from the model everywhere
 * (explicit parts win).
 */
import { statedExpectations } from '../case/load.ts';
import type { BackendKind, CaseNode, CaseSpec, E820Expectation, Expectations, GuestExpectation, MachineType, UseExpectation } from '../case/types.ts';
import { E820_TYPE, type AddressRange, type E820Row } from '../core/vocabulary.ts';
import { diffRows, formatRowChanges } from '../core/row-changes.ts';
import { FOUR_GIB } from '../util/constants.ts';
import { HarnessError } from '../util/errors.ts';
import { parseSize, toQemuSize } from '../util/size.ts';
import { deviceMemoryInput, layoutInputFromCase } from './from-case.ts';
import { deviceRegion, guestSpMemRuns, placeDevices, QMP_DEVICE_TYPE } from './devices.ts';
import { predictLayout } from './layout.ts';
import { predictQemuTables, type QemuTables } from './qemu-tables.ts';
import { predictHmat, predictNodeAccess, type ExpectedNodeAccess } from './hmat.ts';
import { linuxNodeNumbers, qemuSratEntries } from './srat.ts';
import { getProfile, loadProfiles, type RevisionProfile } from '../traits/profiles.ts';
import { belowFourGSize, guestRanges, nodeExtents } from './qemu.ts';
import { traitOf, type SpmView, type TypedMemmap } from '../traits/traits.ts';
import type { LayoutPrediction, Prediction } from './types.ts';

/** The revision a case's stated rows are written for unless it says otherwise. */
export const DEFAULT_CASE_REVISION = 'v5';

/** Where a case runs. */
export interface Configuration {
  machine: MachineType;
  firmware: string;
  kernel: string;
  /** Revision id (harness/traits/traits.json); undefined for a QEMU of unknown revision: only a case's own rows apply. */
  revision?: string;
  /** Backend of every node after node 0 (the matrix's backend axis); default each node's own. */
  backend?: BackendKind;
}

/** A node the patch types (spm or reserved), where it lies on the configuration's machine. */
export interface TypedNode {
  id: number;
  type: TypedMemmap;
  ranges: AddressRange[];
  size: bigint;
}

/** A check the case checker cannot state: Soft Reserved in only one of /proc/iomem and /sys/firmware/memmap. */
export interface SoftReservedCheck {
  place: 'iomem' | 'firmware-memmap';
  ranges: string[];
  /** The kernel source line the expectation rests on (traits.json kernels.<id>.iomemSource), shown when it fails. */
  source?: string;
}

/** What a run of a case on a configuration must show, and why. */
export interface CaseExpectation {
  /** `run`: boot (or launch) and compare; `unsupported`: the QEMU must say it lacks memmap-type; `underivable`: no rows can be stated here. */
  kind: 'run' | 'unsupported' | 'underivable';
  /** The case as it runs: machine and backends of the configuration, expectations derived, onFirmware resolved. */
  spec: CaseSpec;
  /** Short phrases for report tables. */
  summary: string[];
  /** A few words each, for the matrix grid's "expects" column. */
  tags: string[];
  /** The reasons behind them: traits' reasons, the case file's onFirmware reason, the model's notes. */
  reasons: string[];
  /** For `underivable`: why. */
  problem?: string;
  /** The onFirmware variant's reason when the stated rows came from one. */
  variantReason?: string;
  typed: TypedNode[];
  /** Whether each typed type reaches the guest's E820 on this firmware. */
  firmwarePasses: Record<TypedMemmap, boolean>;
  /** What this kernel makes of a soft-reserved range it gets. */
  kernelView: SpmView;
  softReservedChecks: SoftReservedCheck[];
  /** QEMU's own tables (fw_cfg etc/e820, SRAT with flags) for a run that boots; firmware-independent. */
  qemuTables?: QemuTables;
  /** Why there is no `qemuTables` for a run that boots (a QEMU of unknown revision). */
  qemuTablesUnknown?: string;
  /** For a case with `hmat`: each node's access0 attributes as the guest must show them (aspect guest). */
  nodeAccess?: ExpectedNodeAccess[];
}

const TYPE_CODE: Record<TypedMemmap, string> = { spm: '0xEFFFFFFF', reserved: '2' };

/**
 * What `spec` must show on `config`. Pure apart from reading the traits file.
 * Throws HarnessError for a firmware, kernel, machine or revision the traits
 * do not know, and for a model case on a QEMU of unknown revision.
 */
export function expectationsFor(spec: CaseSpec, config: Configuration): CaseExpectation {
  const profile = config.revision === undefined ? undefined : getProfile(config.revision);
  const stated = statedExpectations(spec, config.firmware);
  const base = baseExpectation(spec, config, stated.expect, stated.variantReason);
  if (profile && !profile.memmapTypeSupported && usesMemmapType(spec)) {
    return { ...base, kind: 'unsupported', summary: [`unsupported: ${profile.label} QEMU has no memmap-type`], tags: ['unsupported'], reasons: [`${profile.id}: ${profile.reason}`] };
  }
  // Only a revision known to lack sp-mem (spMemSupported false) says so; unknown leaves it to the probe.
  if (profile?.spMemSupported === false && usesSpMem(spec)) {
    return { ...base, kind: 'unsupported', summary: [`unsupported: ${profile.label} QEMU has no -device sp-mem`], tags: ['unsupported'], reasons: [`${profile.id}: ${profile.description}`] };
  }
  // A stated refusal is judged by behaviour on any configuration: no rows to place.
  if (stated.expect.model !== true && stated.expect.refusal !== undefined) return base;
  const derived = stated.expect.model === true ? fromModel(spec, config, profile, base) : fromStated(spec, config, profile, base);
  return withQemuTables(explain(derived, spec.machine, config, profile), spec, config, profile);
}

/** For a run that boots: what QEMU's own tables must hold, from the layout model (whatever the case states about the kernel's rows). */
function withQemuTables(out: CaseExpectation, spec: CaseSpec, config: Configuration, profile: RevisionProfile | undefined): CaseExpectation {
  if (out.kind !== 'run' || out.spec.expect.refusal !== undefined) return out;
  if (!profile) return { ...out, qemuTablesUnknown: "no revision profile is known for this QEMU, so the model cannot say what its etc/e820 and SRAT hold" };
  const input = layoutInputFromCase({ ...spec, machine: config.machine }, config.firmware, profile);
  if (predictLayout(input).kind !== 'layout') return out;
  const tables = predictQemuTables(input);
  if (spec.hmat === undefined) return { ...out, qemuTables: tables };
  const hmat = predictHmat(spec.nodes, spec.hmat);
  const numbers = linuxNodeNumbers(input.nodes, input.smp, qemuSratEntries(input.nodes, belowFourGSize(input.machine, input.ramSize), profile));
  const nodeOf = (pxm: number) => numbers.get(pxm) ?? pxm;
  const offline = offlineReasons(out);
  const online = new Set(spec.nodes.filter((n) => !offline.has(n.id)).map((n) => nodeOf(n.id)));
  const nodeAccess = predictNodeAccess(hmat, online, nodeOf, (pxm) => offline.get(pxm) ?? 'offline');
  return { ...out, qemuTables: { ...tables, hmat }, nodeAccess };
}

/**
 * The nodes that are offline when the probe reads access0 (after the use
 * steps), with why. A node is online with vCPUs or with RAM the kernel gets as
 * usable; a node of soft-reserved memory only once kmem onlines it: at boot on
 * a kernel that does so (traits), or by the case's kmem-online step.
 */
function offlineReasons(out: CaseExpectation): Map<number, string> {
  const spec = out.spec;
  const reasons = new Map<number, string>();
  for (const node of spec.nodes) {
    if (node.cpus !== undefined) continue;
    const size = parseSize(node.size);
    if (size === 0n || node.memdev === false) {
      reasons.set(node.id, `node ${node.id} has neither vCPUs nor memory`);
      continue;
    }
    const type = node.memmapType ?? 'normal';
    if (type === 'normal') continue;
    if (type === 'reserved') {
      reasons.set(node.id, `node ${node.id} has no vCPUs and only reserved memory, which no one onlines`);
      continue;
    }
    const reaches = out.firmwarePasses.spm;
    const bootOnline = reaches && out.kernelView.onlined;
    const kmemStep = (spec.use ?? []).includes('kmem-online') && (spec.expect.use ?? []).some((u) => u.node === node.id && u.kmemOnline === true);
    if (bootOnline || kmemStep) continue;
    reasons.set(node.id, reaches
      ? `node ${node.id} has no vCPUs and only soft-reserved memory, which ${spec.kernel} leaves to device-dax and the case does not online (kmem-online)`
      : `node ${node.id} has no vCPUs and only spm memory, which ${spec.firmware} drops from the E820: the node never comes online`);
  }
  return reasons;
}

/** Whether the case sets memmap-type on any node (an option a QEMU without the series rejects). */
export function usesMemmapType(spec: CaseSpec): boolean {
  return spec.nodes.some((n) => n.memmapType !== undefined || (n.rawNumaOptions ?? []).some((o) => o.startsWith('memmap-type=')));
}

/** A kernel's spm view in a few words. */
export function describeView(view: SpmView): string {
  const where = view.iomemSoftReserved ? 'Soft Reserved in /proc/iomem' : 'no Soft Reserved in /proc/iomem (only in /sys/firmware/memmap)';
  return `${view.daxDevice ? 'dax device' : 'no dax device'}, ${view.onlined ? 'onlined by kmem' : 'left offline'}, ${where}`;
}

/** Whether the case plugs an sp-mem device (QEMU >= 11.1: older ones say "unsupported"). */
export function usesSpMem(spec: CaseSpec): boolean {
  return (spec.devices ?? []).some((d) => d.kind === 'sp-mem');
}

/** Each spm/reserved node and each run of sp-mem devices as the guest merges them (spm memory of the first one's node), with the guest-physical ranges it gets on `machine`. */
export function typedNodes(spec: CaseSpec, machine: MachineType): TypedNode[] {
  const below = belowFourGSize(machine, parseSize(spec.memory));
  const sized = spec.nodes.map((n) => ({ id: n.id, size: parseSize(n.size), memdev: n.memdev !== false, cpus: [], memmapType: n.memmapType }));
  const nodes = nodeExtents(sized).flatMap(({ node, offset, end }): TypedNode[] => {
    const type = node.memmapType;
    if (type !== 'spm' && type !== 'reserved') return [];
    const ranges = guestRanges(offset, end, below).map((r) => ({ start: r.start, end: r.end - 1n }));
    return [{ id: node.id, type, ranges, size: node.size }];
  });
  return [...nodes, ...spMemDevices(spec, below)];
}

/** sp-mem devices where QEMU puts them, as typed spm memory of their node; none when they cannot be placed (a refusal). */
function spMemDevices(spec: CaseSpec, below: bigint): TypedNode[] {
  if (!usesSpMem(spec) || spec.devices?.some((d) => d.memdev !== undefined)) return [];
  const memory = deviceMemoryInput(spec);
  const region = deviceRegion(parseSize(spec.memory), below, memory.maxmem, memory.slots);
  const placement = region && placeDevices(region, memory.devices);
  if (!placement || !('placed' in placement)) return [];
  return guestSpMemRuns(placement.placed).map((r) => ({ id: r.node, type: 'spm', ranges: [{ start: r.start, end: r.end - 1n }], size: r.end - r.start }));
}

function baseExpectation(spec: CaseSpec, config: Configuration, expect: Expectations, variantReason: string | undefined): CaseExpectation {
  const nodes = spec.nodes.map((n, i): CaseNode => (i === 0 || config.backend === undefined ? n : { ...n, backend: config.backend }));
  return {
    kind: 'run',
    spec: { ...spec, machine: config.machine, firmware: config.firmware, kernel: config.kernel, nodes, expect, onFirmware: undefined },
    summary: [],
    tags: [],
    reasons: [],
    ...(variantReason === undefined ? {} : { variantReason }),
    // A refusal case may name a machine QEMU does not know (that is what it tests): it has no rows to place.
    typed: expect.refusal !== undefined && expect.model !== true ? [] : typedNodes(spec, config.machine),
    firmwarePasses: traitOf('firmware', config.firmware).passes,
    kernelView: traitOf('kernels', config.kernel).whenSpmReachesGuest,
    softReservedChecks: [],
  };
}

function withExpect(out: CaseExpectation, expect: Expectations): CaseExpectation {
  return { ...out, spec: { ...out.spec, expect } };
}

function underivable(out: CaseExpectation, problem: string): CaseExpectation {
  return { ...out, kind: 'underivable', problem, summary: ['cannot derive the expectations for this configuration'], tags: ['underivable'], reasons: [problem] };
}

// ---- cases that take their rows from the model -------------------------------

function fromModel(spec: CaseSpec, config: Configuration, profile: RevisionProfile | undefined, out: CaseExpectation): CaseExpectation {
  if (!profile) {
    throw new HarnessError(`${spec.name} takes its rows from the layout model, which needs the QEMU's revision; none is known for this QEMU`, `say which it implements (--profile): one of ${loadProfiles().map((p) => p.id).join(', ')}`);
  }
  const stated = out.spec.expect;
  const prediction = predict(spec, config.machine, config.firmware, profile);
  switch (prediction.kind) {
    case 'unsupported':
      return out;
    case 'refusal':
      return withExpect({ ...out, reasons: [prediction.reason] }, { model: true, refusal: stated.refusal ?? prediction.expectation });
    case 'layout': {
      const derived = withExpect({ ...out, reasons: [...prediction.notes] }, { ...stated, e820: stated.e820 ?? prediction.e820, srat: stated.srat ?? prediction.srat, ...deviceQmp(stated, prediction) });
      return stated.guest ? modelGuest(spec, derived) : derived;
    }
  }
}

/** QMP's view of the predicted memory devices, for a case with devices that does not state it. */
function deviceQmp(stated: Expectations, prediction: LayoutPrediction): Pick<Expectations, 'qmp'> {
  if (prediction.memoryDevices.length === 0) return stated.qmp ? { qmp: stated.qmp } : {};
  const memoryDevices = prediction.memoryDevices.map((d) => ({ type: QMP_DEVICE_TYPE[d.kind], node: d.node, addr: `0x${d.start.toString(16)}`, size: toQemuSize(d.size) }));
  const plugged = prediction.memoryDevices.reduce((sum, d) => sum + d.size, 0n);
  return { qmp: { memoryDevices, pluggedMemory: toQemuSize(plugged), ...stated.qmp } };
}

/** A model case's stated guest view (written for its own machine, firmware and kernel) carried to the configuration by the traits. */
function modelGuest(spec: CaseSpec, out: CaseExpectation): CaseExpectation {
  const stated = out.spec.expect.guest;
  if (!stated) return out;
  const ownGuest = statedExpectations(spec, spec.firmware).expect.guest ?? stated;
  const ownTyped = typedNodes(spec, spec.machine);
  // Where the case states the view (its firmware or an onFirmware one, its kernel and machine) it stands as written.
  const own = ownConfiguration(spec);
  if (own.firmwares.includes(out.spec.firmware) && out.spec.kernel === own.kernel && out.spec.machine === own.machine) return out;
  const derived = deriveGuest(ownGuest, ownTyped, out.typed, out.firmwarePasses.spm, out.kernelView, traitOf('kernels', out.spec.kernel).iomemSource);
  return withUse(withExpect({ ...out, softReservedChecks: derived.checks }, { ...out.spec.expect, guest: derived.guest }));
}

function predict(spec: CaseSpec, machine: MachineType, firmware: string, profile: RevisionProfile): Prediction {
  return predictLayout(layoutInputFromCase({ ...spec, machine }, firmware, profile));
}

// ---- cases with stated rows ---------------------------------------------------

/** The configurations a case's stated rows were written for. */
interface OwnConfiguration {
  machine: MachineType;
  revision: string;
  kernel: string;
  /** The case's firmware and every firmware it has a variant for. */
  firmwares: string[];
}

function ownConfiguration(spec: CaseSpec): OwnConfiguration {
  return { machine: spec.machine, revision: spec.revision ?? DEFAULT_CASE_REVISION, kernel: spec.kernel, firmwares: [spec.firmware, ...Object.keys(spec.onFirmware ?? {})] };
}

function fromStated(spec: CaseSpec, config: Configuration, profile: RevisionProfile | undefined, out: CaseExpectation): CaseExpectation {
  const own = ownConfiguration(spec);
  const stated = out.spec.expect;
  const onOwnFirmware = own.firmwares.includes(config.firmware);
  const rowsOwn = config.machine === own.machine && onOwnFirmware && (profile === undefined || profile.id === own.revision);
  const guestOwn = config.machine === own.machine && onOwnFirmware && config.kernel === own.kernel;
  let result = out;
  // The kernel traits describe each kernel as booted by the harness: a case's own kernel parameters (efi=nosoftreserve…) change that.
  if (!guestOwn && spec.kernelArgs !== undefined && (stated.guest !== undefined || stated.use !== undefined)) {
    return underivable(out, `${spec.name} boots its guest with ${spec.kernelArgs.join(' ')}, which the kernel and firmware traits do not describe: its guest expectations hold only on its own configuration (${own.machine}, ${own.firmwares.join('/')}, ${own.kernel})`);
  }
  if (!rowsOwn && (stated.e820 !== undefined || stated.srat !== undefined)) {
    const problem = modelMismatch(spec, own);
    if (problem) return underivable(out, problem);
    result = modelRows(spec, config, profile ?? getProfile(own.revision), result);
    if (result.kind !== 'run' || result.spec.expect.refusal !== undefined) return result;
  }
  if (!guestOwn && stated.guest !== undefined) {
    const problem = guestMismatch(spec, own);
    if (problem) return underivable(out, problem);
    const derived = deriveGuest(stated.guest, typedNodes(spec, own.machine), result.typed, result.firmwarePasses.spm, result.kernelView, traitOf('kernels', result.spec.kernel).iomemSource);
    result = withExpect({ ...result, softReservedChecks: derived.checks }, { ...result.spec.expect, guest: derived.guest });
  }
  if (!guestOwn && stated.use !== undefined) {
    const problem = useMismatch(spec, own);
    if (problem) return underivable(out, problem);
    result = withUse(result);
  }
  return result;
}

// ---- the use steps on other configurations --------------------------------------

/**
 * The use expectations on a configuration other than the case's own, from the
 * traits: an spm node whose range reaches a kernel that leaves it to
 * device-dax can be mapped and onlined; a node whose range is not soft
 * reserved there (reserved, or the firmware drops type 0xEFFFFFFF) has
 * nothing to map or online. A kernel that onlines the range through kmem at
 * boot leaves no device-dax node to map: the steps are not run there, and the
 * summary says why (its guest view's nodeMemTotal checks the onlining).
 */
function withUse(out: CaseExpectation): CaseExpectation {
  const use = out.spec.expect.use;
  if (use === undefined || out.kind !== 'run') return out;
  const derived = deriveUse(use, out.typed, out.firmwarePasses.spm, out.kernelView);
  if (derived !== undefined) return withExpect(out, { ...out.spec.expect, use: derived });
  const { use: _dropped, ...expect } = out.spec.expect;
  const { use: _steps, ...spec } = out.spec;
  const why = `use steps not run on ${out.spec.kernel}: the kernel onlines a soft-reserved range through kmem at boot (traits), so there is no device-dax node to map; nodeMemTotal checks the onlining`;
  return { ...out, spec: { ...spec, expect }, summary: [...out.summary, 'use steps not run (kernel onlines at boot)'], reasons: [...out.reasons, why] };
}

/** undefined: the kernel onlines the spm range itself, so the steps have nothing of their own to prove. */
export function deriveUse(stated: readonly UseExpectation[], typed: readonly TypedNode[], reaches: boolean, view: SpmView): UseExpectation[] | undefined {
  const spm = typed.filter((t) => t.type === 'spm');
  if (reaches && spm.length > 0 && view.onlined) return undefined;
  return stated.map((u) => {
    const node = typed.find((t) => t.id === u.node);
    if (node === undefined) return u;
    const works = node.type === 'spm' && reaches && view.daxDevice;
    return { node: u.node, ...(u.daxPattern === undefined ? {} : { daxPattern: works }), ...(u.kmemOnline === undefined ? {} : { kmemOnline: works }) };
  });
}

/** Why the traits cannot carry the case's use expectations: they do not reproduce them on its own configurations. */
function useMismatch(spec: CaseSpec, own: OwnConfiguration): string | undefined {
  const typed = typedNodes(spec, own.machine);
  const view = traitOf('kernels', own.kernel).whenSpmReachesGuest;
  for (const firmware of own.firmwares) {
    const use = statedExpectations(spec, firmware).expect.use;
    if (!use) continue;
    const derived = deriveUse(use, typed, traitOf('firmware', firmware).passes.spm, view);
    const text = (u: readonly UseExpectation[] | undefined) => JSON.stringify(u && [...u].sort((a, b) => a.node - b.node).map(({ node, daxPattern, kmemOnline }) => ({ node, daxPattern, kmemOnline })));
    if (text(derived) !== text(use)) return `${spec.name} on its own configuration (${own.machine}, ${firmware}, ${own.kernel}): the kernel and firmware traits do not reproduce the case's use expectations (${text(use)} stated, ${text(derived) ?? 'not run'} derived)`;
  }
  return undefined;
}

/** The model's rows for the configuration, in the scope the case states them. */
function modelRows(spec: CaseSpec, config: Configuration, profile: RevisionProfile, out: CaseExpectation): CaseExpectation {
  const stated = out.spec.expect;
  const prediction = predict(spec, config.machine, config.firmware, profile);
  if (prediction.kind === 'unsupported') return out;
  if (prediction.kind === 'refusal') {
    return withExpect({ ...out, summary: [`QEMU refuses: ${prediction.expectation.rule}`], reasons: [prediction.reason] }, { refusal: prediction.expectation });
  }
  const e820 = stated.e820 && scoped(prediction, stated.e820.scope);
  if (e820 === null) return underivable(out, `${spec.name}: its e820 rows cover the whole table, but on ${config.firmware} the layout model draws only the part above 4 GiB (the firmware lays out the rest its own way)`);
  return withExpect(out, { ...stated, ...(e820 ? { e820 } : {}), ...(stated.srat ? { srat: prediction.srat } : {}) });
}

/** The prediction's E820 rows within `scope`; null when the model does not draw that much. */
function scoped(prediction: LayoutPrediction, scope: E820Expectation['scope']): E820Expectation | null {
  if (scope === 'all' && prediction.e820.scope !== 'all') return null;
  const rows = scope === 'all' ? prediction.e820.rows : prediction.e820.rows.filter((r) => r.start >= FOUR_GIB);
  return { scope, rows };
}

/**
 * Why the model cannot stand in for the case's rows: it does not reproduce
 * them on one of the case's own configurations. Undefined when it does.
 */
function modelMismatch(spec: CaseSpec, own: OwnConfiguration): string | undefined {
  const profile = getProfile(own.revision);
  for (const firmware of own.firmwares) {
    const stated = statedExpectations(spec, firmware).expect;
    if (stated.e820 === undefined && stated.srat === undefined) continue;
    const where = `${spec.name} on its own configuration (${own.machine}, ${firmware}, ${own.revision})`;
    const prediction = predict(spec, own.machine, firmware, profile);
    if (prediction.kind !== 'layout') return `${where}: the layout model predicts ${prediction.kind === 'refusal' ? `a refusal (${prediction.reason})` : 'unsupported'}, not the case's rows`;
    const e820 = stated.e820 && scoped(prediction, stated.e820.scope);
    if (e820 === null) return `${where}: the case states the whole e820 table, the layout model draws only the part above 4 GiB there`;
    const diff = [...(e820 && stated.e820 ? labelled('e820', diffRows(stated.e820.rows, e820.rows)) : []), ...(stated.srat ? labelled('srat', diffRows(stated.srat, prediction.srat)) : [])];
    if (diff.length > 0) return `${where}: the layout model does not reproduce the case's stated rows (${diff.join('; ')}), so it cannot carry them to other configurations`;
  }
  return undefined;
}

function labelled(table: string, changes: Parameters<typeof formatRowChanges>[0]): string[] {
  return formatRowChanges(changes).map((line) => `${table}: ${line.trim()}`);
}

/** Why the kernel traits cannot stand in for the case's guest expectations on its own configurations; undefined when they can. */
function guestMismatch(spec: CaseSpec, own: OwnConfiguration): string | undefined {
  const typed = typedNodes(spec, own.machine);
  const view = traitOf('kernels', own.kernel).whenSpmReachesGuest;
  for (const firmware of own.firmwares) {
    const guest = statedExpectations(spec, firmware).expect.guest;
    if (!guest) continue;
    const derived = deriveGuest(guest, typed, typed, traitOf('firmware', firmware).passes.spm, view);
    if (derived.checks.length > 0 || canonical(derived.guest) !== canonical(guest)) {
      return `${spec.name} on its own configuration (${own.machine}, ${firmware}, ${own.kernel}): the kernel and firmware traits do not reproduce the case's guest expectations (${canonical(guest)} stated, ${canonical(derived.guest)} derived)`;
    }
  }
  return undefined;
}

/** A guest expectation as sorted JSON, for comparing two of them. */
function canonical(guest: GuestExpectation): string {
  return JSON.stringify({
    softReserved: guest.softReserved && [...guest.softReserved].sort(),
    dax: guest.dax && [...guest.dax].sort((a, b) => a.targetNode - b.targetNode),
    nodeMemTotal: guest.nodeMemTotal && [...guest.nodeMemTotal].sort((a, b) => a.node - b.node),
  });
}

/**
 * The guest's view of spm nodes, from whether the range reaches the kernel
 * (the firmware passes it) and what that kernel does with it: the stated
 * parts about spm nodes (where they lay on the case's own machine, `stated`)
 * are replaced; parts about other nodes stay. When the kernel lists Soft
 * Reserved in only one of /proc/iomem and /sys/firmware/memmap, each place
 * gets its own check.
 */
function deriveGuest(stated: GuestExpectation, statedTyped: readonly TypedNode[], typed: readonly TypedNode[], reaches: boolean, view: SpmView, iomemSource?: string): { guest: GuestExpectation; checks: SoftReservedCheck[] } {
  const spm = typed.filter((t) => t.type === 'spm');
  if (spm.length === 0) return { guest: stated, checks: [] };
  const guest: GuestExpectation = { ...stated };
  const checks: SoftReservedCheck[] = [];
  if (stated.softReserved) {
    const ranges = spm.flatMap((n) => n.ranges.map(rangeText));
    const statedRanges = statedTyped.filter((t) => t.type === 'spm').flatMap((n) => n.ranges.map(rangeText));
    const others = stated.softReserved.filter((r) => !statedRanges.includes(r));
    const iomem = [...others, ...(reaches && view.iomemSoftReserved ? ranges : [])];
    const memmap = [...others, ...(reaches && view.firmwareMemmapSoftReserved ? ranges : [])];
    if (sameList(iomem, memmap)) guest.softReserved = iomem;
    else {
      delete guest.softReserved;
      checks.push({ place: 'iomem', ranges: iomem, ...(iomemSource ? { source: iomemSource } : {}) }, { place: 'firmware-memmap', ranges: memmap });
    }
  }
  const ids = spm.map((n) => n.id);
  if (stated.dax) {
    const kept = stated.dax.filter((d) => !ids.includes(d.targetNode));
    guest.dax = [...kept, ...(reaches && view.daxDevice ? spm.map((n) => ({ targetNode: n.id, size: toQemuSize(n.size) })) : [])];
  }
  if (stated.nodeMemTotal) {
    const kept = stated.nodeMemTotal.filter((b) => !ids.includes(b.node));
    // kmem onlines the whole range; a little goes to the node's own struct pages.
    const bound = (n: TypedNode) => (reaches && view.onlined ? { node: n.id, min: toQemuSize((n.size * 15n) / 16n), max: toQemuSize(n.size) } : { node: n.id, max: '0' });
    guest.nodeMemTotal = [...kept, ...spm.map(bound)].sort((a, b) => a.node - b.node);
  }
  return { guest, checks };
}

// ---- what a report says about the configuration --------------------------------

/** Summary, tags and reasons for a `run` expectation: what each axis does to this case here, from the traits. */
function explain(out: CaseExpectation, caseMachine: MachineType, config: Configuration, profile: RevisionProfile | undefined): CaseExpectation {
  if (out.kind !== 'run' || out.spec.expect.refusal !== undefined) return out;
  const summary = [...out.summary];
  const tags = [...out.tags];
  const reasons: string[] = [];
  const expect = out.spec.expect;
  if (config.machine !== caseMachine) {
    summary.push(`${config.machine} layout`);
    tags.push(`${config.machine} layout`);
    reasons.push(`${config.machine}: ${traitOf('machines', config.machine).reason}`);
  }
  const reserved = out.typed.filter((t) => t.type === 'reserved').map((t) => t.id);
  if (profile?.reservedLeavesSrat && reserved.length > 0 && expect.srat) {
    summary.push(`reserved node ${reserved.join(', ')} left out of SRAT`);
    tags.push('reserved not in SRAT');
    reasons.push(`${profile.id}: ${profile.reason}`);
  }
  const firmware = traitOf('firmware', config.firmware);
  for (const type of ['spm', 'reserved'] as const) {
    if (!out.typed.some((t) => t.type === type)) continue;
    reasons.push(`${config.firmware} ${firmware.passes[type] ? 'passes' : 'drops'} ${type}: ${firmware.reason[type]}`);
    summary.push(firmware.passes[type] ? `${type} passed through as E820 type ${TYPE_CODE[type]}` : `firmware drops type ${TYPE_CODE[type]}: ${type} range absent from E820, SRAT unchanged`);
    tags.push(firmware.passes[type] ? `${type} in E820` : `${type} dropped by firmware`);
  }
  if (out.typed.some((t) => t.type === 'spm') && expect.guest && out.firmwarePasses.spm) {
    const kernel = traitOf('kernels', config.kernel);
    summary.push(`${config.kernel}: ${describeView(out.kernelView)}`);
    tags.push(out.kernelView.onlined ? 'spm onlined (kmem)' : 'spm offline (dax)', ...(out.kernelView.iomemSoftReserved ? [] : ['no Soft Reserved in iomem']));
    reasons.push(`${config.kernel}: ${kernel.reason}`, `${config.kernel} /proc/iomem: ${kernel.iomemSource}`);
  }
  if (out.variantReason !== undefined) reasons.push(`case file onFirmware.${config.firmware}: ${out.variantReason}`);
  if (out.typed.length === 0) summary.push('normal RAM only: the same map on every firmware and kernel');
  return { ...out, summary, tags, reasons: [...reasons, ...out.reasons] };
}

function rangeText(r: AddressRange): string {
  return `0x${r.start.toString(16)}-0x${r.end.toString(16)}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The E820 type a TypedMemmap gives its range. */
export const TYPED_E820: Record<TypedMemmap, E820Row['type']> = { spm: E820_TYPE.SOFT_RESERVED, reserved: E820_TYPE.RESERVED };
