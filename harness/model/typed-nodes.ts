/**
 * The memory a case types (spm or reserved nodes, sp-mem devices) and where
 * it lies on a machine: what the firmware and kernel traits are applied to.
 */
import type { CaseSpec, MachineType } from '../case/types.ts';
import type { TypedMemmap } from '../core/memmap-types.ts';
import type { AddressRange } from '../core/vocabulary.ts';
import { parseSize } from '../util/size.ts';
import { deviceRegion, guestSpMemRuns, placeDevices } from './devices.ts';
import { deviceMemoryInput } from './from-case.ts';
import { belowFourGSize, guestRanges, nodeExtents } from './qemu.ts';

/** A node the patch types (spm or reserved), where it lies on the configuration's machine. */
export interface TypedNode {
  id: number;
  type: TypedMemmap;
  ranges: AddressRange[];
  size: bigint;
}

/** Whether the case sets memmap-type on any node (an option a QEMU without the series rejects). */
export function usesMemmapType(spec: CaseSpec): boolean {
  return spec.nodes.some((n) => n.memmapType !== undefined || (n.rawNumaOptions ?? []).some((o) => o.startsWith('memmap-type=')));
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
