import type { CaseNode, CaseSpec, Expectations, GuestExpectation, MachineType } from '../case/types.ts';
import { parseSize, toQemuSize } from '../util/size.ts';
import { moveRangeText, nodeSegments, rangeInText, rangeText, relocation, type Range, type Relocation } from './layout.ts';
import type { Cell, MatrixDefinition, SpmView, TypedMemmap } from './types.ts';

/** A node the patch types (spm or reserved), where it lies in the cell's machine. */
export interface TypedNode {
  id: number;
  type: TypedMemmap;
  ranges: Range[];
  size: bigint;
}

/** A check the harness's checker cannot state: Soft Reserved in only one of /proc/iomem and /sys/firmware/memmap. */
export interface SoftReservedCheck {
  place: 'iomem' | 'firmware-memmap';
  ranges: string[];
}

/** What a cell expects of a case, and why: the behaviour stated per axis with its reason. */
export interface CellExpectation {
  /** `run`: boot and compare; `unsupported`: the QEMU must say it lacks memmap-type; `underivable`: the matrix cannot state rows for this cell. */
  kind: 'run' | 'unsupported' | 'underivable';
  /** The case as it runs in the cell: machine and backends replaced, expectations derived. */
  spec: CaseSpec;
  /** Short phrases for report tables. */
  summary: string[];
  /** A few words each, for the grid's "expects" column. */
  tags: string[];
  /** The reasons behind them, from the matrix file (and the case file's onFirmware variant). */
  reasons: string[];
  /** For `underivable`. */
  problem?: string;
  typed: TypedNode[];
  /** Whether each typed type should reach the guest's E820 on this firmware. */
  firmwarePasses: Record<TypedMemmap, boolean>;
  /** The kernel's view of a soft-reserved range it gets. */
  kernelView: SpmView;
  softReservedChecks: SoftReservedCheck[];
}

const TYPE_LABEL: Record<TypedMemmap, string> = { spm: 'soft reserved', reserved: 'reserved' };
const TYPE_CODE: Record<TypedMemmap, string> = { spm: '0xEFFFFFFF', reserved: '2' };

/** Derives what `spec` must show in `cell`, from the case's own rows (written for v5, its machine, a passing firmware) and the matrix's per-axis facts. */
export function expectationFor(def: MatrixDefinition, cell: Cell, spec: CaseSpec): CellExpectation {
  const machine = cell.machine as MachineType;
  const nodes = spec.nodes.map((n, i): CaseNode => (i === 0 ? n : { ...n, backend: cell.backend as CaseNode['backend'] }));
  const segments = nodeSegments(spec.nodes, spec.memory, mustGet(def.machines, machine));
  const typed = spec.nodes.flatMap((n, i): TypedNode[] => (n.memmapType === 'spm' || n.memmapType === 'reserved' ? [{ id: n.id, type: n.memmapType, ranges: segments[i] ?? [], size: parseSize(n.size) }] : []));
  const fw = mustGet(def.firmware, cell.firmware);
  const kernel = mustGet(def.kernels, cell.kernel);
  const revision = mustGet(def.revisions, cell.revision);
  const base: CellExpectation = {
    kind: 'run',
    spec: { ...spec, machine, nodes, onFirmware: undefined },
    summary: [],
    tags: [],
    reasons: [],
    typed,
    firmwarePasses: fw.passes,
    kernelView: kernel.whenSpmReachesGuest,
    softReservedChecks: [],
  };
  if (revision.series === null && spec.nodes.some((n) => n.memmapType !== undefined)) {
    return { ...base, kind: 'unsupported', summary: ['unsupported: baseline QEMU has no memmap-type'], tags: ['unsupported'], reasons: [`${cell.revision}: ${revision.reason}`] };
  }
  const moved = moveToMachine(def, spec, machine);
  if ('problem' in moved) return { ...base, kind: 'underivable', problem: moved.problem, summary: ['cannot derive rows for this machine'], reasons: [moved.problem] };
  const out: CellExpectation = { ...base, summary: [...moved.summary], tags: machine === spec.machine ? [] : [`${machine} layout`], reasons: [...moved.reasons] };
  let expect = moved.expect;
  if (!revision.reservedInSrat) expect = dropReservedFromSrat(expect, typed, cell.revision, revision.reason, out);
  expect = applyFirmware(expect, typed, cell.firmware, fw.passes, fw.reason, out);
  expect = applyKernelView(expect, typed, fw.passes.spm, cell.kernel, kernel.whenSpmReachesGuest, kernel.reason, out);
  const variant = spec.onFirmware?.[cell.firmware];
  if (variant) {
    // Explicit rows in the case file win over what the matrix derives.
    expect = { ...expect, ...moveExpectations(variant.expect, moved.reloc) };
    out.reasons.push(`case file onFirmware.${cell.firmware}: ${variant.reason}`);
  }
  if (typed.length === 0) out.summary.push('normal RAM only: the same map on every firmware and kernel');
  return { ...out, spec: { ...out.spec, expect } };
}

type Moved = { expect: Expectations; reloc?: Relocation; summary: string[]; reasons: string[] } | { problem: string };

/** The case's rows on the cell's machine: bounds at node boundaries move to where the nodes lie there. */
function moveToMachine(def: MatrixDefinition, spec: CaseSpec, machine: MachineType): Moved {
  if (machine === spec.machine) return { expect: spec.expect, summary: [], reasons: [] };
  const info = mustGet(def.machines, machine);
  const reloc = relocation(nodeSegments(spec.nodes, spec.memory, mustGet(def.machines, spec.machine)), nodeSegments(spec.nodes, spec.memory, info));
  const scopes = [spec.expect.e820?.scope, ...Object.values(spec.onFirmware ?? {}).map((v) => v.expect.e820?.scope)];
  if (!reloc) return { problem: `${spec.name}: a node straddles 4 GiB on one of ${spec.machine} and ${machine} only; its rows cannot be moved (needs the layout model)` };
  if (scopes.includes('all')) return { problem: `${spec.name}: e820 scope 'all' covers low memory, which firmware and machine lay out differently; only 'above-4g' rows can be moved to ${machine}` };
  return { expect: moveExpectations(spec.expect, reloc), reloc, summary: [`${machine} layout`], reasons: [`${machine}: ${info.reason}`] };
}

function moveExpectations(expect: Expectations, reloc: Relocation | undefined): Expectations {
  if (!reloc) return expect;
  const guest = expect.guest && {
    ...expect.guest,
    ...(expect.guest.softReserved ? { softReserved: expect.guest.softReserved.map((r) => moveRangeText(r, reloc)) } : {}),
  };
  return {
    ...expect,
    ...(expect.e820 ? { e820: { ...expect.e820, lines: expect.e820.lines.map((l) => moveRangeText(l, reloc)) } } : {}),
    ...(expect.srat ? { srat: expect.srat.map((l) => moveRangeText(l, reloc)) } : {}),
    ...(guest ? { guest } : {}),
  };
}

/** v6+: a reserved node's SRAT memory rows are gone. */
function dropReservedFromSrat(expect: Expectations, typed: TypedNode[], revision: string, reason: string, out: CellExpectation): Expectations {
  const reserved = typed.filter((t) => t.type === 'reserved').map((t) => t.id);
  if (reserved.length === 0 || !expect.srat) return expect;
  out.summary.push(`reserved node ${reserved.join(', ')} left out of SRAT`);
  out.tags.push('reserved not in SRAT');
  out.reasons.push(`${revision}: ${reason}`);
  return { ...expect, srat: expect.srat.filter((line) => !reserved.includes(Number(/Node (\d+)/.exec(line)?.[1]))) };
}

/** A firmware that drops a type: the node's range is absent from the guest's E820 (SRAT, built by QEMU, unchanged) and never reaches the guest. */
function applyFirmware(expect: Expectations, typed: TypedNode[], firmware: string, passes: Record<TypedMemmap, boolean>, reason: Record<TypedMemmap, string>, out: CellExpectation): Expectations {
  let result = expect;
  for (const type of ['spm', 'reserved'] as const) {
    const nodes = typed.filter((t) => t.type === type);
    if (nodes.length === 0) continue;
    out.reasons.push(`${firmware} ${passes[type] ? 'passes' : 'drops'} ${type}: ${reason[type]}`);
    if (passes[type]) {
      out.summary.push(`${type} passed through as E820 type ${TYPE_CODE[type]}`);
      out.tags.push(`${type} in E820`);
      continue;
    }
    out.summary.push(`firmware drops type ${TYPE_CODE[type]}: ${type} range absent from E820, SRAT unchanged`);
    out.tags.push(`${type} dropped by firmware`);
    const ranges = nodes.flatMap((n) => n.ranges);
    const dropped = (line: string) => line.trimEnd().endsWith(` ${TYPE_LABEL[type]}`) && ranges.some((r) => sameRange(rangeInText(line), r));
    if (result.e820) result = { ...result, e820: { ...result.e820, lines: result.e820.lines.filter((l) => !dropped(l)) } };
  }
  return result;
}

/** The guest's view of spm nodes: recomputed from whether the range reaches the kernel and what that kernel does with it. */
function applyKernelView(expect: Expectations, typed: TypedNode[], spmPasses: boolean, kernel: string, view: SpmView, reason: string, out: CellExpectation): Expectations {
  const spm = typed.filter((t) => t.type === 'spm');
  if (spm.length === 0 || !expect.guest) return expect;
  const reaches = spmPasses;
  if (reaches) {
    out.summary.push(`${kernel}: ${describeView(view)}`);
    out.tags.push(view.onlined ? 'spm onlined (kmem)' : 'spm offline (dax)', ...(view.iomemSoftReserved ? [] : ['no Soft Reserved in iomem']));
    out.reasons.push(`${kernel}: ${reason}`);
  }
  const ranges = spm.flatMap((n) => n.ranges.map(rangeText));
  const guest: GuestExpectation = { ...expect.guest };
  if (expect.guest.softReserved) {
    const others = expect.guest.softReserved.filter((r) => !ranges.includes(r));
    const iomem = [...others, ...(reaches && view.iomemSoftReserved ? ranges : [])];
    const memmap = [...others, ...(reaches && view.firmwareMemmapSoftReserved ? ranges : [])];
    if (sameList(iomem, memmap)) guest.softReserved = iomem;
    else {
      delete guest.softReserved;
      out.softReservedChecks.push({ place: 'iomem', ranges: iomem }, { place: 'firmware-memmap', ranges: memmap });
    }
  }
  const ids = spm.map((n) => n.id);
  if (expect.guest.dax) {
    const kept = expect.guest.dax.filter((d) => !ids.includes(d.targetNode));
    guest.dax = [...kept, ...(reaches && view.daxDevice ? spm.map((n) => ({ targetNode: n.id, size: toQemuSize(n.size) })) : [])];
  }
  if (expect.guest.nodeMemTotal) {
    const kept = expect.guest.nodeMemTotal.filter((b) => !ids.includes(b.node));
    // kmem onlines the whole range; a little goes to the node's own struct pages.
    const bound = (n: TypedNode) => (reaches && view.onlined ? { node: n.id, min: toQemuSize((n.size * 15n) / 16n), max: toQemuSize(n.size) } : { node: n.id, max: '0' });
    guest.nodeMemTotal = [...kept, ...spm.map(bound)].sort((a, b) => a.node - b.node);
  }
  return { ...expect, guest };
}

/** A kernel's spm view in a few words. */
export function describeView(view: SpmView): string {
  const where = view.iomemSoftReserved ? 'Soft Reserved in /proc/iomem' : 'no Soft Reserved in /proc/iomem (only in /sys/firmware/memmap)';
  return `${view.daxDevice ? 'dax device' : 'no dax device'}, ${view.onlined ? 'onlined by kmem' : 'left offline'}, ${where}`;
}

function sameRange(a: Range | undefined, b: Range): boolean {
  return a !== undefined && a.start === b.start && a.end === b.end;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

function mustGet<T>(record: Record<string, T>, key: string): T {
  const value = record[key];
  if (value === undefined) throw new Error(`matrix definition has no entry for '${key}' (validateMatrix should have caught this)`);
  return value;
}

