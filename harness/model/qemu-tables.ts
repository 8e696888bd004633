/**
 * QEMU's own tables, before any firmware touches them: the fw_cfg file
 * `etc/e820` and the ACPI SRAT's memory affinity structures with their flags.
 * The guest reads both raw (images/guest/init); these are what they must hold.
 * Unlike the kernel's printed rows they do not depend on the firmware: SeaBIOS
 * drops type 0xEFFFFFFF on its way to the guest, but QEMU's table still has it.
 * Pure apart from reading the traits (the flag rules and their evidence).
 */
import { byStart, type E820Row } from '../core/vocabulary.ts';
import { deviceE820, deviceRegion, deviceSrat, placeDevices } from './devices.ts';
import { belowFourGSize, qemuE820 } from './qemu.ts';
import { mergeAdjacent } from './ranges.ts';
import type { ExpectedHmat } from './hmat.ts';
import { qemuSratEntries } from './srat.ts';
import { sratFlagRule, type SratFlagRuleId } from '../traits/traits.ts';
import type { LayoutInput } from './types.ts';

/** One expected SRAT memory affinity structure (end inclusive; absent for QEMU's zero-length padding). */
export interface ExpectedSratMemory {
  pxm: number;
  start: bigint;
  length: bigint;
  end?: bigint;
  flags: { enabled: boolean; hotpluggable: boolean; nonVolatile: boolean };
  /** The traits.json `sratFlags` rule it follows (the QEMU source line it mirrors is there). */
  rule: SratFlagRuleId;
}

export interface QemuTables {
  /** etc/e820, sorted by address: one entry per run of one type in RAM (pc_add_ram_e820_entries; unpatched: one for low, one for high RAM), one per sp-mem device. */
  fwCfgE820: E820Row[];
  /** SRAT memory affinity structures in QEMU's order; undefined: QEMU builds no SRAT (no NUMA nodes). */
  srat?: ExpectedSratMemory[];
  /** HMAT, for a case with `-machine hmat=on` (harness/model/hmat.ts); undefined: QEMU builds none. */
  hmat?: ExpectedHmat;
}

/**
 * What QEMU puts into etc/e820 and SRAT for `input` (which QEMU starts: refusals
 * are ruled out by the caller). Mirrors build_srat() in hw/i386/acpi-build.c
 * (QEMU 10.2.2): the nodes' RAM (enabled), padding to nodes + 2 entries
 * (zero, disabled), then the device-memory region (enabled, hot-pluggable,
 * PXM of the last node), or on 11.1 its sp-mem devices and the gaps around them.
 */
export function predictQemuTables(input: LayoutInput): QemuTables {
  const below = belowFourGSize(input.machine, input.ramSize);
  const memory = input.deviceMemory;
  const region = memory && deviceRegion(input.ramSize, below, memory.maxmem, memory.slots);
  const placement = memory && region ? placeDevices(region, memory.devices) : undefined;
  const placed = placement && 'placed' in placement ? placement.placed : [];
  // QEMU merges runs of one type within RAM (pc_add_ram_e820_entries), never across e820_add_entry()
  // calls: two sp-mem devices back to back are two entries (measured on 11.1.3; Linux 6.1 then merges them).
  const ram = mergeAdjacent([...qemuE820(input.nodes, input.ramSize, below)].sort(byStart));
  const fwCfgE820 = [...ram, ...deviceE820(placed)].sort(byStart).map((s) => ({ start: s.start, end: s.end - 1n, type: s.type }));
  if (input.nodes.length === 0) return { fwCfgE820 };
  const entry = (pxm: number, start: bigint, end: bigint, rule: SratFlagRuleId): ExpectedSratMemory => {
    const flags = flagsOf(rule);
    return { pxm, start, length: end - start, ...(end > start ? { end: end - 1n } : {}), flags, rule };
  };
  const srat = qemuSratEntries(input.nodes, below, input.profile).map((e) => entry(e.pxm, e.start, e.end, 'nodeRam'));
  for (let slots = srat.length; slots < input.nodes.length + 2; slots++) srat.push(entry(0, 0n, 0n, 'padding'));
  if (region) {
    const lastNode = Math.max(0, ...input.nodes.map((n) => n.id));
    for (const d of deviceSrat(region, placed, lastNode)) srat.push(entry(d.pxm, d.start, d.end, d.hotplug ? 'deviceMemory' : 'spMem'));
  }
  return { fwCfgE820, srat };
}

function flagsOf(rule: SratFlagRuleId): ExpectedSratMemory['flags'] {
  const words = sratFlagRule(rule).flags;
  return { enabled: words.includes('enabled'), hotpluggable: words.includes('hotpluggable'), nonVolatile: words.includes('non-volatile') };
}
