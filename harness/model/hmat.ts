/**
 * The ACPI HMAT QEMU builds for `-machine hmat=on` and its `-numa hmat-lb`
 * entries, and what Linux makes of it: each node's access class 0 attributes
 * in /sys/devices/system/node/nodeN/access0/. Everything here follows from
 * the case's own `hmat` and nodes; the checker compares, it knows no numbers.
 *
 * QEMU side mirrors QEMU 10.2.2 (Debian's 1:10.2.2+ds-1 source):
 * hw/core/numa.c:278-306 (latency base, entry by entry in command-line
 * order) and :347-373 (bandwidth base) in parse_numa_hmat_lb();
 * hw/acpi/hmat.c:210-231 hmat_build_table_structs() (type 0 only for nodes
 * with memory; initiators = nodes with vCPUs), :112-146 build_hmat_lb()
 * (base unit x1000 for latency, /MiB for bandwidth; entries = value / base;
 * targets 0..n-1); hw/core/machine.c:931 (a node with vCPUs is its own
 * initiator). Kernel side mirrors Linux 6.1.176 drivers/acpi/numa/hmat.c:
 * :190 hmat_normalize(), :225 hmat_update_target_access(), :331-345
 * hmat_parse_locality() (every entry written, 0 included, when the target's
 * processor PXM is the initiator), :601-608 (the linked initiator), :725-752
 * hmat_register_target() (online nodes only) and :764 hmat_callback() (on
 * MEM_ONLINE). Held against real guests: test/unit/hmat-model.test.ts (our
 * v5 series and unpatched 10.2.2); Debian's 6.1 and 6.12 kernels passed
 * hmat-spm too (cases/README.md).
 */
import type { CaseNode, HmatDataType, HmatSpec } from '../case/types.ts';
import { HarnessError } from '../util/errors.ts';
import { parseSize } from '../util/size.ts';

/** QEMU's MAX_NODES (include/system/numa.h): the initiator field of a node without one. */
export const QEMU_MAX_NODES = 128;
const MIB = 1n << 20n;
const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffffffffn;

/** The locality data types in QEMU's (and ACPI's) order: the HMAT structure's Data Type number is the index. */
const DATA_TYPES: readonly HmatDataType[] = ['access-latency', 'read-latency', 'write-latency', 'access-bandwidth', 'read-bandwidth', 'write-bandwidth'];

/** One expected memory proximity domain attributes structure (type 0). */
export interface ExpectedHmatProximity {
  memoryPxm: number;
  initiatorValid: boolean;
  /** As QEMU writes it: the initiator, or MAX_NODES when there is none. */
  initiatorPxm: number;
}

/** One expected locality structure (type 1, hierarchy memory). */
export interface ExpectedHmatLocality {
  dataType: number;
  dataTypeName: HmatDataType;
  /** Picoseconds (latency) or MB/s (bandwidth), as written into the table. */
  entryBaseUnit: bigint;
  initiators: number[];
  targets: number[];
  entries: number[][];
}

export interface ExpectedHmat {
  proximity: ExpectedHmatProximity[];
  localities: ExpectedHmatLocality[];
}

/** What Linux shows in a node's access0: absent when the node is offline, else its linked initiator nodes and four values (0: not given). */
export type ExpectedNodeAccess =
  | { node: number; state: 'absent'; why: string }
  | { node: number; state: 'present'; initiators: number[]; readLatency: number; writeLatency: number; readBandwidth: number; writeBandwidth: number };

interface HmatNode {
  id: number;
  hasCpus: boolean;
  hasMemory: boolean;
  initiator?: number;
}

function hmatNodes(nodes: readonly CaseNode[]): HmatNode[] {
  return [...nodes]
    .sort((a, b) => a.id - b.id)
    .map((n) => ({ id: n.id, hasCpus: n.cpus !== undefined, hasMemory: n.memdev !== false && parseSize(n.size) > 0n, ...(n.initiator === undefined ? {} : { initiator: n.initiator }) }));
}

/**
 * The HMAT QEMU builds for these nodes and entries. Throws HarnessError when
 * QEMU would refuse the entries (values too far apart for 16-bit entries).
 */
export function predictHmat(nodes: readonly CaseNode[], hmat: HmatSpec): ExpectedHmat {
  const all = hmatNodes(nodes);
  // hmat_build_table_structs(): one type 0 per node with memory ("Linux rejects whole HMAT
  // table if a node with no memory has one of these structures listing it as a target").
  const proximity = all.filter((n) => n.hasMemory).map((n): ExpectedHmatProximity => {
    const initiator = n.hasCpus ? n.id : n.initiator;
    return { memoryPxm: n.id, initiatorValid: initiator !== undefined, initiatorPxm: initiator ?? QEMU_MAX_NODES };
  });
  // Initiators: the nodes with vCPUs, in node order; targets: every node, 0..n-1 (build_hmat_lb()).
  const initiators = all.filter((n) => n.hasCpus).map((n) => n.id);
  const targets = all.map((n) => n.id);
  const localities: ExpectedHmatLocality[] = [];
  DATA_TYPES.forEach((name, dataType) => {
    const given = hmat.lb.filter((e) => e.dataType === name);
    if (given.length === 0) return;
    const latency = name.endsWith('latency');
    const values = given.map((e) => (latency ? BigInt(e.latency ?? 0) : parseSize(e.bandwidth ?? '0')));
    const base = latency ? latencyBase(values) : bandwidthBase(values);
    const entries = initiators.map(() => targets.map(() => 0));
    given.forEach((e, i) => {
      const row = entries[initiators.indexOf(e.initiator)];
      const at = targets.indexOf(e.target);
      if (row !== undefined && at >= 0) row[at] = Number(((values[i] ?? 0n) / base) & 0xffffn);
    });
    // Entry Base Unit: latency from nanoseconds to picoseconds, bandwidth from bytes to MB (MiB).
    localities.push({ dataType, dataTypeName: name, entryBaseUnit: latency ? base * 1000n : base / MIB, initiators, targets, entries });
  });
  return { proximity, localities };
}

/** parse_numa_hmat_lb(), latency: the base is the smallest power of ten dividing each value, taken entry by entry. */
function latencyBase(values: readonly bigint[]): bigint {
  let base = 0xffffffffffffffffn;
  let range = 0n;
  for (const value of values) {
    if (value === 0n) continue;
    let rest = value;
    let temp = 1n;
    while (rest % 10n === 0n) {
      rest /= 10n;
      temp *= 10n;
    }
    temp = temp < base ? temp : base;
    let maxEntry = value / base;
    maxEntry = maxEntry > range ? maxEntry : range;
    if (maxEntry >= BigInt(UINT16_MAX)) throw new HarnessError(`hmat: latency ${value} ns is more than ${UINT16_MAX - 1} base units from the others; QEMU refuses it`, 'choose latencies closer together');
    base = temp;
    range = maxEntry;
  }
  return base;
}

/** parse_numa_hmat_lb(), bandwidth: the base is the lowest set bit of all values so far. */
function bandwidthBase(values: readonly bigint[]): bigint {
  let base = 1n;
  let bitmap = 0n;
  for (const value of values) {
    if (value === 0n) continue;
    const bits = bitmap | value;
    const firstBit = lowestBit(bits);
    const temp = 1n << BigInt(firstBit);
    const lastBit = bits.toString(2).length;
    if (lastBit - firstBit > 16 || value / temp >= BigInt(UINT16_MAX)) throw new HarnessError(`hmat: bandwidth ${value} B/s does not fit 16-bit entries beside the others; QEMU refuses it`, 'choose bandwidths closer together');
    base = temp;
    bitmap = bits;
  }
  return base;
}

function lowestBit(value: bigint): number {
  let bit = 0;
  while (((value >> BigInt(bit)) & 1n) === 0n) bit++;
  return bit;
}

/**
 * Each node's access0 as Linux 6.1 shows it, for the HMAT `hmat` and the
 * nodes that are online when the guest program reads them (`online`: node ids; a node
 * comes online with vCPUs or usable RAM, or when kmem onlines its
 * soft-reserved memory). `nodeOf` maps a PXM to Linux's node number.
 * Linux registers a node's attributes only once it is online
 * (hmat_register_target(), and hmat_callback() on MEM_ONLINE).
 * A target whose type 0 names its initiator is linked to exactly that one, and
 * its values are that initiator's entries, structure by structure in table
 * order, the last one of a kind winning (hmat_parse_locality() writes every
 * entry, 0 included); the "best initiator" search for a target without one is
 * not modelled (the case loader requires `initiator` on such nodes).
 */
export function predictNodeAccess(hmat: ExpectedHmat, online: ReadonlySet<number>, nodeOf: (pxm: number) => number, why: (pxm: number) => string): ExpectedNodeAccess[] {
  return hmat.localities[0] === undefined && hmat.proximity.length === 0
    ? []
    : allPxms(hmat).map((pxm): ExpectedNodeAccess => {
        const node = nodeOf(pxm);
        const proximity = hmat.proximity.find((p) => p.memoryPxm === pxm);
        if (!online.has(node)) return { node, state: 'absent', why: why(pxm) };
        if (proximity === undefined || !proximity.initiatorValid) return { node, state: 'absent', why: `PXM ${pxm} has no memory proximity domain attributes with an initiator (a node without memory gets none from QEMU)` };
        const values = { readLatency: 0, writeLatency: 0, readBandwidth: 0, writeBandwidth: 0 };
        for (const loc of hmat.localities) {
          const i = loc.initiators.indexOf(proximity.initiatorPxm);
          const t = loc.targets.indexOf(pxm);
          if (i < 0 || t < 0) continue;
          const value = normalize(loc.entries[i]?.[t] ?? 0, loc.entryBaseUnit, loc.dataTypeName);
          if (loc.dataTypeName === 'access-latency' || loc.dataTypeName === 'read-latency') values.readLatency = value;
          if (loc.dataTypeName === 'access-latency' || loc.dataTypeName === 'write-latency') values.writeLatency = value;
          if (loc.dataTypeName === 'access-bandwidth' || loc.dataTypeName === 'read-bandwidth') values.readBandwidth = value;
          if (loc.dataTypeName === 'access-bandwidth' || loc.dataTypeName === 'write-bandwidth') values.writeBandwidth = value;
        }
        return { node, state: 'present', initiators: [nodeOf(proximity.initiatorPxm)], ...values };
      });
}

function allPxms(hmat: ExpectedHmat): number[] {
  const pxms = new Set([...hmat.proximity.map((p) => p.memoryPxm), ...hmat.localities.flatMap((l) => l.targets)]);
  return [...pxms].sort((a, b) => a - b);
}

/** hmat_normalize() for an HMAT of revision 2 (QEMU's): latency from picoseconds to nanoseconds, rounded up; bandwidth in MB/s as is. */
export function normalize(entry: number, base: bigint, dataType: HmatDataType): number {
  if (entry === 0 || entry === 0xffff) return 0;
  if (base > UINT32_MAX / BigInt(entry)) return 0;
  const value = BigInt(entry) * base;
  return Number(dataType.endsWith('latency') ? (value + 999n) / 1000n : value);
}
