/**
 * Memory devices (QEMU 11.1's `-device sp-mem`, and `pc-dimm`) on pc/q35:
 * where the device-memory region lies, where each device lands in it, and
 * the E820 and SRAT entries that follow. Pure: no I/O.
 *
 * The rules are QEMU's (hw/i386/pc.c pc_get_device_memory_range(),
 * hw/mem/memory-device.c memory_device_get_free_addr(), build_srat() in
 * hw/i386/acpi-build.c), checked against rows we did not write: the sp-mem
 * issue's measurements on Debian sid's QEMU 11.1.3 (seed layout as sp-mem:
 * device at 0x280000000, soft reserved 0x280000000-0x47fffffff, SRAT node 1
 * 0x280000000-0x47fffffff then `hotplug` 0x480000000-0x6ffffffff for
 * `-m 8G,maxmem=24G,slots=2`), see test/unit/sp-mem-model.test.ts.
 */
import type { MemoryDeviceKind } from '../case/types.ts';
import { E820_TYPE } from '../core/vocabulary.ts';
import { FOUR_GIB } from '../util/constants.ts';
import type { Span } from './ranges.ts';

const GIB = 1n << 30n;

/** One memory device as the model needs it, in command-line order. */
export interface DeviceLayout {
  kind: MemoryDeviceKind;
  /** `id=` (what query-memory-devices reports). */
  id: string;
  node: number;
  size: bigint;
  /** `addr=` when given. */
  addr?: bigint;
}

/** `-m …,maxmem=…,slots=…` as the model needs it. */
export interface DeviceMemoryInput {
  devices: DeviceLayout[];
  maxmem: bigint;
  slots: number;
}

/** A device where QEMU put it; end exclusive. */
export interface PlacedDevice extends DeviceLayout {
  start: bigint;
  end: bigint;
}

/** The device-memory region, end exclusive. */
export interface DeviceRegion {
  start: bigint;
  end: bigint;
}

/**
 * pc_get_device_memory_range(): the region starts at the end of the RAM above
 * 4 GiB rounded up to 1 GiB, and holds maxmem - RAM plus 1 GiB per slot
 * (room to align each DIMM to 1 GiB). None when maxmem does not exceed RAM.
 */
export function deviceRegion(ramSize: bigint, belowFourG: bigint, maxmem: bigint, slots: number): DeviceRegion | undefined {
  if (maxmem <= ramSize) return undefined;
  const start = alignUp(FOUR_GIB + (ramSize - belowFourG), GIB);
  return { start, end: start + (maxmem - ramSize) + GIB * BigInt(slots) };
}

/** Why a device cannot be placed: QEMU refuses the device. */
export interface PlacementProblem {
  device: DeviceLayout;
  problem: 'outside the device-memory region' | 'overlaps another memory device' | 'no room left in the device-memory region';
}

/**
 * memory_device_get_free_addr(), device by device in command-line order: an
 * `addr` is taken as given if it lies in the region and overlaps no device
 * placed before; otherwise the first gap from the region's start that fits.
 * Devices are 4 KiB aligned (the case loader enforces it for sizes and
 * addresses), so no alignment padding appears between them.
 */
export function placeDevices(region: DeviceRegion, devices: readonly DeviceLayout[]): { placed: PlacedDevice[] } | PlacementProblem {
  const placed: PlacedDevice[] = [];
  for (const device of devices) {
    const start = device.addr ?? firstFit(region, placed, device.size);
    if (start === undefined) return { device, problem: 'no room left in the device-memory region' };
    const end = start + device.size;
    if (start < region.start || end > region.end) return { device, problem: 'outside the device-memory region' };
    if (placed.some((p) => p.start < end && start < p.end)) return { device, problem: 'overlaps another memory device' };
    placed.push({ ...device, start, end });
  }
  return { placed };
}

function firstFit(region: DeviceRegion, placed: readonly PlacedDevice[], size: bigint): bigint | undefined {
  let candidate = region.start;
  for (const p of [...placed].sort((a, b) => (a.start < b.start ? -1 : 1))) {
    if (candidate + size <= p.start) break;
    if (p.end > candidate) candidate = p.end;
  }
  return candidate + size <= region.end ? candidate : undefined;
}

/** The etc/e820 entry each sp-mem device adds: its range as soft reserved (pc-dimm memory is not in E820). */
export function deviceE820(placed: readonly PlacedDevice[]): Span[] {
  return placed.filter((d) => d.kind === 'sp-mem').map((d) => ({ start: d.start, end: d.end, type: E820_TYPE.SOFT_RESERVED }));
}

/** A memory affinity entry: PXM = QEMU node id; end exclusive. */
export interface DeviceSratEntry {
  pxm: number;
  start: bigint;
  end: bigint;
  hotplug: boolean;
}

/**
 * build_srat() after the nodes' RAM, in address order across the
 * device-memory region: each sp-mem device's range with its node, and each
 * gap around them as hot-pluggable memory of the last node
 * (`nb_numa_nodes - 1`; pc-dimm memory stays inside a gap). Measured on
 * 11.1.3: `addr=0x300000000` gives hotplug 0x280000000-0x2ffffffff, node 1
 * 0x300000000-0x4ffffffff, hotplug 0x500000000-0x6ffffffff, in that order.
 */
export function deviceSrat(region: DeviceRegion, placed: readonly PlacedDevice[], lastNode: number): DeviceSratEntry[] {
  const spMem = placed.filter((d) => d.kind === 'sp-mem').sort((a, b) => (a.start < b.start ? -1 : 1));
  const own = spMem.map((d) => ({ pxm: d.node, start: d.start, end: d.end, hotplug: false }));
  const gaps: DeviceSratEntry[] = [];
  let from = region.start;
  for (const d of spMem) {
    if (d.start > from) gaps.push({ pxm: lastNode, start: from, end: d.start, hotplug: true });
    from = d.end > from ? d.end : from;
  }
  if (region.end > from) gaps.push({ pxm: lastNode, start: from, end: region.end, hotplug: true });
  return [...own, ...gaps].sort((a, b) => (a.start < b.start ? -1 : 1));
}

/** What query-memory-devices calls each kind (MemoryDeviceInfoKind: pc-dimm is `dimm`). */
export const QMP_DEVICE_TYPE: Record<MemoryDeviceKind, string> = { 'sp-mem': 'sp-mem', 'pc-dimm': 'dimm' };

/**
 * sp-mem ranges as the guest kernel sees them: touching ranges become one
 * (e820__update_table() merges them before /proc/iomem and dax_hmem see
 * them), owned by the node of the first. Measured on 11.1.3 with Linux 6.1:
 * two devices back to back (node 1 4 GiB, node 2 2 GiB) give one Soft Reserved
 * range and one 6 GiB dax device targeting node 1.
 */
export function guestSpMemRuns(placed: readonly PlacedDevice[]): { node: number; start: bigint; end: bigint }[] {
  const runs: { node: number; start: bigint; end: bigint }[] = [];
  for (const d of placed.filter((p) => p.kind === 'sp-mem').sort((a, b) => (a.start < b.start ? -1 : 1))) {
    const last = runs[runs.length - 1];
    if (last && last.end === d.start) last.end = d.end;
    else runs.push({ node: d.node, start: d.start, end: d.end });
  }
  return runs;
}

function alignUp(value: bigint, align: bigint): bigint {
  return ((value + align - 1n) / align) * align;
}
