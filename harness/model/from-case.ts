/**
 * The bridge between case files and the layout model: a case's machine and
 * nodes as model input, and the expectations the model gives a case that
 * says `"expect": {"model": true}`.
 */
import { expectationsFor } from '../case/load.ts';
import type { CaseSpec, Expectations } from '../case/types.ts';
import { HarnessError } from '../util/errors.ts';
import { parseSize } from '../util/size.ts';
import { firmwareTraits } from './firmware.ts';
import { predictLayout } from './layout.ts';
import { e820Line, sratLine } from './lines.ts';
import { loadProfiles, profileForQemuLabel, type RevisionProfile } from './profiles.ts';
import type { LayoutInput, NodeLayout, Prediction } from './types.ts';

/** The model's input for `spec` run on firmware `firmwareId` under `profile`. */
export function layoutInputFromCase(spec: CaseSpec, firmwareId: string, profile: RevisionProfile): LayoutInput {
  return {
    machine: spec.machine,
    ramSize: parseSize(spec.memory),
    smp: spec.smp,
    nodes: spec.nodes.map((n): NodeLayout => ({
      id: n.id,
      size: parseSize(n.size),
      memdev: n.memdev !== false,
      memmapType: n.memmapType ?? rawMemmapType(n.rawNumaOptions ?? [], spec.name),
      cpus: cpuList(n.cpus),
    })),
    firmware: firmwareTraits(firmwareId),
    profile,
  };
}

/** What the model predicts for `spec` on that firmware and profile. */
export function predictCase(spec: CaseSpec, firmwareId: string, profile: RevisionProfile): Prediction {
  return predictLayout(layoutInputFromCase(spec, firmwareId, profile));
}

/**
 * The expectations a run checks: the case's own (`stated`, after any
 * onFirmware variant), with `e820`, `srat` and `refusal` filled in from the
 * model when the case asks for it. Explicit parts always win. When the model
 * predicts a refusal, only the refusal is left to check (QEMU never boots);
 * for "unsupported" nothing is added (the harness says so before booting).
 */
export function expectationsFromModel(spec: CaseSpec, firmwareId: string, profile: RevisionProfile, stated: Expectations = spec.expect): Expectations {
  if (stated.model !== true) return stated;
  const prediction = predictCase(spec, firmwareId, profile);
  switch (prediction.kind) {
    case 'unsupported':
      return stated;
    case 'refusal':
      return { model: true, refusal: stated.refusal ?? prediction.expectation };
    case 'layout': {
      const e820 = { scope: prediction.e820.scope, lines: prediction.e820.rows.map(e820Line) };
      return { ...stated, e820: stated.e820 ?? e820, srat: stated.srat ?? prediction.srat.map(sratLine) };
    }
  }
}

/**
 * Everything one run checks, in one call for runCase: the case's own
 * expectations after its onFirmware variant, completed by the model when the
 * case says `model: true`. `qemu` is a profile id or a QemuUnderTest label
 * (`patched-v6`, `baseline`); a QEMU the harness did not build has no
 * profile, so a model case needs one named explicitly.
 */
export function runExpectations(spec: CaseSpec, firmwareId: string, qemu: string): { expect: Expectations; variantReason?: string } {
  const stated = expectationsFor(spec, firmwareId);
  if (stated.expect.model !== true) return stated;
  const profile = profileForQemuLabel(qemu);
  if (!profile) throw new HarnessError(`${spec.name} takes its rows from the layout model, which needs the QEMU's revision; '${qemu}' names none`, `say which it implements: one of ${loadProfiles().map((p) => p.id).join(', ')}`);
  return { ...stated, expect: expectationsFromModel(spec, firmwareId, profile, stated.expect) };
}

/** Whether a case is about `profileId` (cases without `profiles` are about every profile). */
export function caseAppliesTo(spec: CaseSpec, profileId: string): boolean {
  return spec.profiles === undefined || spec.profiles.includes(profileId);
}

/** `memmap-type=` among a negative case's raw -numa parts; any other raw key is beyond the model. */
function rawMemmapType(options: readonly string[], where: string): string | undefined {
  let value: string | undefined;
  for (const option of options) {
    const [key, raw] = option.split('=', 2);
    if (key !== 'memmap-type') throw new HarnessError(`${where}: the layout model cannot predict raw -numa option '${option}'`, 'state the expectation explicitly (expect.refusal) and drop expect.model');
    value = raw;
  }
  return value;
}

/** "0-3" or "5" as vCPU indexes (the case loader accepts only these shapes). */
function cpuList(range: string): number[] {
  const [first, last = first] = range.split('-').map(Number);
  const out: number[] = [];
  for (let cpu = first ?? 0; cpu <= (last ?? -1); cpu++) out.push(cpu);
  return out;
}
