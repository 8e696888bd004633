/**
 * SRAT memory affinity rows as QEMU's build_srat() (hw/i386/acpi-build.c)
 * writes them and Linux prints them (drivers/acpi/numa/srat.c).
 */
import { FOUR_GIB } from '../util/constants.ts';
import { nodeExtents } from './qemu.ts';
import type { DeviceSratEntry } from './devices.ts';
import type { RevisionProfile } from '../traits/profiles.ts';
import type { NodeLayout, SratRow } from './types.ts';

const HOLE_640K_START = 0xa0000n;
const HOLE_640K_END = 0x100000n;

/** A memory affinity entry as QEMU writes it: PXM = QEMU node id; end exclusive. */
interface SratEntry {
  pxm: number;
  start: bigint;
  end: bigint;
  hotplug?: boolean;
}

/**
 * build_srat(): nodes in id order walk guest RAM from 0; the first one loses
 * 640 KiB-1 MiB; the node crossing the end of low memory is cut in two and
 * continues at 4 GiB. Zero-length parts get no entry. From v6 a reserved node
 * is skipped (the walk still advances past its RAM).
 */
export function qemuSratEntries(nodes: readonly NodeLayout[], below: bigint, profile: RevisionProfile): SratEntry[] {
  const entries: SratEntry[] = [];
  let next = 0n;
  for (const { node } of nodeExtents(nodes)) {
    let base = next;
    let len = node.size;
    next = base + len;
    if (profile.reservedLeavesSrat && node.memmapType === 'reserved') {
      if (base <= below && next > below) next += FOUR_GIB - below;
      continue;
    }
    const add = (start: bigint, length: bigint) => {
      if (length > 0n) entries.push({ pxm: node.id, start, end: start + length });
    };
    if (base <= HOLE_640K_START && next > HOLE_640K_START) {
      add(base, len - (next - HOLE_640K_START));
      if (next <= HOLE_640K_END) {
        next = HOLE_640K_END;
        continue;
      }
      base = HOLE_640K_END;
      len = next - HOLE_640K_END;
    }
    if (base <= below && next > below) {
      add(base, len - (next - below));
      base = FOUR_GIB;
      len = next - below;
      next = base + len;
    }
    add(base, len);
  }
  return entries;
}

/**
 * Linux numbers nodes in the order it meets PXMs: first the CPU affinity
 * entries (one per vCPU, in vCPU order), then the memory entries. A vCPU no
 * node lists belongs to node 0 (QEMU's default with one socket).
 */
export function linuxNodeNumbers(nodes: readonly NodeLayout[], smp: number, entries: readonly SratEntry[]): Map<number, number> {
  const numbers = new Map<number, number>();
  const meet = (pxm: number) => {
    if (!numbers.has(pxm)) numbers.set(pxm, numbers.size);
  };
  for (let cpu = 0; cpu < smp; cpu++) meet(nodes.find((n) => n.cpus.includes(cpu))?.id ?? 0);
  for (const entry of entries) meet(entry.pxm);
  return numbers;
}

/** The SRAT lines the guest prints, in table order. */
export function sratRows(nodes: readonly NodeLayout[], smp: number, below: bigint, profile: RevisionProfile, devices: readonly DeviceSratEntry[] = []): SratRow[] {
  const entries: SratEntry[] = [...qemuSratEntries(nodes, below, profile), ...devices];
  const numbers = linuxNodeNumbers(nodes, smp, entries);
  return entries.map((e) => ({ node: numbers.get(e.pxm) ?? e.pxm, pxm: e.pxm, start: e.start, end: e.end - 1n, ...(e.hotplug ? { hotplug: true } : {}) }));
}
