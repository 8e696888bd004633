/**
 * The bridge between case files and the layout model: a case's machine and
 * nodes as model input (the expectations themselves: expectations.ts).
 */
import { deviceId, memoryLimits } from '../case/qemu-args.ts';
import type { CaseSpec } from '../case/types.ts';
import type { DeviceMemoryInput } from './devices.ts';
import { HarnessError } from '../util/errors.ts';
import { parseSize } from '../util/size.ts';
import { firmwareTraits } from './firmware.ts';
import { predictLayout } from './layout.ts';
import type { RevisionProfile } from '../traits/profiles.ts';
import type { LayoutInput, NodeLayout, Prediction } from './types.ts';

/** The model's input for `spec` run on firmware `firmwareId` under `profile`; throws HarnessError for raw -numa options other than memmap-type or an unknown firmware. */
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
    ...(spec.devices?.length ? { deviceMemory: deviceMemoryInput(spec) } : {}),
    firmware: firmwareTraits(firmwareId),
    profile,
  };
}

/** A case's memory devices with the maxmem and slots QEMU gets (maxmem 0: none, so no device-memory region). */
export function deviceMemoryInput(spec: CaseSpec): DeviceMemoryInput {
  const reused = spec.devices?.find((d) => d.memdev !== undefined);
  if (reused) throw new HarnessError(`${spec.name}: the layout model cannot predict a device that reuses backend '${reused.memdev}'`, 'state the expectation explicitly (expect.refusal) and drop expect.model');
  const limits = memoryLimits(spec);
  const devices = (spec.devices ?? []).map((d, i) => ({ kind: d.kind, id: deviceId(d, i), node: d.node, size: parseSize(d.size), ...(d.addr === undefined ? {} : { addr: BigInt(d.addr) }) }));
  return { devices, maxmem: limits?.maxmem ?? 0n, slots: limits?.slots ?? 0 };
}

/** What the model predicts for `spec` on that firmware and profile (throws as layoutInputFromCase does). */
export function predictCase(spec: CaseSpec, firmwareId: string, profile: RevisionProfile): Prediction {
  return predictLayout(layoutInputFromCase(spec, firmwareId, profile));
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
function cpuList(range: string | undefined): number[] {
  if (range === undefined) return [];
  const [first, last = first] = range.split('-').map(Number);
  const out: number[] = [];
  for (let cpu = first ?? 0; cpu <= (last ?? -1); cpu++) out.push(cpu);
  return out;
}
