/**
 * What QEMU (hw/i386/pc.c, pc_piix.c, pc_q35.c with the memmap-type series)
 * puts into fw_cfg `etc/e820`: guest RAM split at the end of low memory,
 * typed per NUMA node, and the AMD HyperTransport hole.
 */
import type { MachineType } from '../case/types.ts';
import { e820TypeOf } from '../core/memmap-types.ts';
import { E820_TYPE } from '../core/vocabulary.ts';
import { FOUR_GIB } from '../util/constants.ts';
import type { Span } from './ranges.ts';
import { parseAddress, traitOf } from '../traits/traits.ts';
import type { NodeLayout } from './types.ts';

// pc.c AMD_HT_START/AMD_HT_END: added as E820_RESERVED when the vCPU is AMD
// and phys-bits >= 40. Under TCG the default CPU (qemu64) reports
// AuthenticAMD with 40 phys-bits, so every run of this harness has it.
export const AMD_HT_HOLE = { start: 0xfd00000000n, end: 0x10000000000n } as const;

/**
 * Bytes of RAM below 4 GiB (x86ms->below_4g_mem_size) with the default
 * max-ram-below-4g: RAM at or above the machine's `splitAt` puts `lowMemory`
 * low, else all of it is low (harness/traits/traits.json `machines`, with the
 * reasons: pc_piix.c's gigabyte-aligned 3 GiB, pc_q35.c's 2 GiB below MMCONFIG).
 */
export function belowFourGSize(machine: MachineType, ramSize: bigint): bigint {
  const { splitAt, lowMemory } = traitOf('machines', machine);
  return ramSize >= parseAddress(splitAt) ? parseAddress(lowMemory) : ramSize;
}

/** A node's share of machine->ram: nodes own it in node-id order from offset 0 (numa_init_memdev_container). */
export interface NodeExtent {
  node: NodeLayout;
  /** Offsets into guest RAM, end exclusive. */
  offset: bigint;
  end: bigint;
}

/** Each node's RAM offsets, in node-id order. */
export function nodeExtents(nodes: readonly NodeLayout[]): NodeExtent[] {
  let offset = 0n;
  return [...nodes].sort((a, b) => a.id - b.id).map((node) => {
    const extent = { node, offset, end: offset + node.size };
    offset = extent.end;
    return extent;
  });
}

/** Guest-physical ranges of RAM offsets [from, to): the part past the split is mapped at 4 GiB. */
export function guestRanges(from: bigint, to: bigint, below: bigint): { start: bigint; end: bigint }[] {
  const out: { start: bigint; end: bigint }[] = [];
  if (from < below) out.push({ start: from, end: to < below ? to : below });
  if (to > below) {
    const high = from > below ? from : below;
    out.push({ start: FOUR_GIB + (high - below), end: FOUR_GIB + (to - below) });
  }
  return out.filter((r) => r.end > r.start);
}

/** etc/e820 in the order QEMU adds it: the HT hole first, then each node's RAM with its type. */
export function qemuE820(nodes: readonly NodeLayout[], ramSize: bigint, below: bigint): Span[] {
  const spans: Span[] = [{ ...AMD_HT_HOLE, type: E820_TYPE.RESERVED }];
  const extents = nodes.length > 0 ? nodeExtents(nodes) : [{ node: undefined, offset: 0n, end: ramSize }];
  for (const extent of extents) {
    const type = e820TypeOf(extent.node?.memmapType);
    for (const r of guestRanges(extent.offset, extent.end, below)) spans.push({ ...r, type });
  }
  return spans;
}
