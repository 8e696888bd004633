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
 *
 * This file is the dispatcher; its parts: case-expectation.ts (the answer's
 * shape), typed-nodes.ts, own-configuration.ts, model-rows.ts,
 * consistency.ts, guest-view.ts, explain.ts, expected-tables.ts.
 */
import { statedExpectations } from '../case/on-firmware.ts';
import type { CaseNode, CaseSpec, Expectations } from '../case/types.ts';
import { getProfile, loadProfiles, type RevisionProfile } from '../traits/profiles.ts';
import { traitOf } from '../traits/traits.ts';
import { HarnessError } from '../util/errors.ts';
import { hex, toQemuSize } from '../util/size.ts';
import { underivable, withExpect, type CaseExpectation, type Configuration } from './case-expectation.ts';
import { guestMismatch, modelMismatch, useMismatch } from './consistency.ts';
import { QMP_DEVICE_TYPE } from './devices.ts';
import { explain } from './explain.ts';
import { withQemuTables } from './expected-tables.ts';
import { modelGuest, withGuest, withUse } from './guest-view.ts';
import { modelRows, predict } from './model-rows.ts';
import { ownConfiguration } from './own-configuration.ts';
import { typedNodes, usesMemmapType, usesSpMem } from './typed-nodes.ts';
import type { LayoutPrediction } from './types.ts';

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

/** The case on the configuration before any rows are derived: its machine, backends and traits, onFirmware resolved. */
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
  const memoryDevices = prediction.memoryDevices.map((d) => ({ type: QMP_DEVICE_TYPE[d.kind], node: d.node, addr: hex(d.start), size: toQemuSize(d.size) }));
  const plugged = prediction.memoryDevices.reduce((sum, d) => sum + d.size, 0n);
  return { qmp: { memoryDevices, pluggedMemory: toQemuSize(plugged), ...stated.qmp } };
}

// ---- cases with stated rows ---------------------------------------------------

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
    result = withGuest(result, stated.guest, typedNodes(spec, own.machine));
  }
  if (!guestOwn && stated.use !== undefined) {
    const problem = useMismatch(spec, own);
    if (problem) return underivable(out, problem);
    result = withUse(result);
  }
  return result;
}
