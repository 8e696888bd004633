/**
 * The ACPI Heterogeneous Memory Attribute Table (ACPI 6.5, 5.2.28; revision 2
 * since ACPI 6.3), read from its raw bytes: header, 4 reserved bytes, then
 * structures (type u16, reserved u16, length u32). Decoded: memory proximity
 * domain attributes (type 0) and system locality latency and bandwidth
 * information (type 1) with its matrix of entries; memory side cache
 * information (type 2) is read for its domain, size and attributes. Any other
 * type is kept as unknown, with its length.
 */
import { ACPI_HEADER_BYTES, AcpiTableError, readAcpiHeader, viewOf, type AcpiHeader } from './acpi-header.ts';

/** Type 0 (ACPI 6.5 Table 5.149): which initiator is attached to a memory proximity domain. */
export interface HmatProximityAttributes {
  /** Flags bit 0: the initiator proximity domain field is valid. */
  initiatorValid: boolean;
  /** The attached initiator's proximity domain, as written (meaningful only when `initiatorValid`). */
  initiatorPxm: number;
  memoryPxm: number;
  /** The flags word as read. */
  flags: number;
}

/** The locality structure's data types (Table 5.150, "Data Type"), by their number. */
export const HMAT_DATA_TYPES = ['access-latency', 'read-latency', 'write-latency', 'access-bandwidth', 'read-bandwidth', 'write-bandwidth'] as const;
export type HmatDataTypeName = (typeof HMAT_DATA_TYPES)[number];

/** Type 1 (Table 5.150): latency or bandwidth from each initiator to each target, in units of `entryBaseUnit`. */
export interface HmatLocality {
  /** Flags bits 3:0: 0 memory, 1-3 the memory side cache level. */
  hierarchy: number;
  /** Flags as read (bits 4 and 5 say minimum/non-sequential transfer size in ACPI 6.4+). */
  flags: number;
  dataType: number;
  /** The data type's name, undefined for a reserved number. */
  dataTypeName?: HmatDataTypeName;
  /** Picoseconds for latency, MB/s for bandwidth (revision 2). */
  entryBaseUnit: bigint;
  initiators: number[];
  targets: number[];
  /** entries[i][t]: from initiators[i] to targets[t]; 0 = not provided, 0xffff = unreachable. */
  entries: number[][];
}

/** Type 2 (Table 5.152): a memory side cache of a memory proximity domain. */
export interface HmatCache {
  memoryPxm: number;
  size: bigint;
  /** Bits 3:0 total levels, 7:4 this level, 11:8 associativity, 15:12 write policy, 31:16 line size. */
  attributes: number;
  level: number;
  totalLevels: number;
  lineSize: number;
  smbiosHandles: number;
}

export interface HmatTable {
  header: AcpiHeader;
  proximity: HmatProximityAttributes[];
  localities: HmatLocality[];
  caches: HmatCache[];
  unknown: { type: number; length: number }[];
}

const HMAT_FIXED_BYTES = ACPI_HEADER_BYTES + 4;
const STRUCTURE_HEADER_BYTES = 8;
const PROXIMITY_BYTES = 40;
const LOCALITY_FIXED_BYTES = 32;
const CACHE_FIXED_BYTES = 32;

/** Decodes an HMAT. Throws AcpiTableError for a bad header or checksum, or a structure that does not fit its length or the table. */
export function parseHmat(bytes: Uint8Array): HmatTable {
  const header = readAcpiHeader(bytes, 'HMAT');
  if (bytes.length < HMAT_FIXED_BYTES) throw new AcpiTableError(`HMAT: ${bytes.length} bytes, shorter than its fixed part (${HMAT_FIXED_BYTES})`);
  const view = viewOf(bytes);
  const table: HmatTable = { header, proximity: [], localities: [], caches: [], unknown: [] };
  for (let at = HMAT_FIXED_BYTES; at < bytes.length; ) {
    if (at + STRUCTURE_HEADER_BYTES > bytes.length) throw new AcpiTableError(`HMAT: a structure header at offset ${at} runs past the end (${bytes.length})`);
    const type = view.getUint16(at, true);
    const length = view.getUint32(at + 4, true);
    if (length < STRUCTURE_HEADER_BYTES || at + length > bytes.length) throw new AcpiTableError(`HMAT: structure type ${type} at offset ${at} has length ${length}, past the table's end (${bytes.length})`);
    const need = (n: number, what: string) => {
      if (length < n) throw new AcpiTableError(`HMAT: structure type ${type} at offset ${at} is ${length} bytes, ${what} needs ${n}`);
    };
    switch (type) {
      case 0: {
        need(PROXIMITY_BYTES, 'memory proximity domain attributes');
        const flags = view.getUint16(at + 8, true);
        table.proximity.push({ initiatorValid: (flags & 1) !== 0, initiatorPxm: view.getUint32(at + 12, true), memoryPxm: view.getUint32(at + 16, true), flags });
        break;
      }
      case 1:
        table.localities.push(readLocality(view, at, length, need));
        break;
      case 2: {
        need(CACHE_FIXED_BYTES, 'memory side cache information');
        const attributes = view.getUint32(at + 24, true);
        const smbiosHandles = view.getUint16(at + 30, true);
        need(CACHE_FIXED_BYTES + 2 * smbiosHandles, `a cache with ${smbiosHandles} SMBIOS handles`);
        table.caches.push({
          memoryPxm: view.getUint32(at + 8, true),
          size: view.getBigUint64(at + 16, true),
          attributes,
          totalLevels: attributes & 0xf,
          level: (attributes >>> 4) & 0xf,
          lineSize: attributes >>> 16,
          smbiosHandles,
        });
        break;
      }
      default:
        table.unknown.push({ type, length });
    }
    at += length;
  }
  return table;
}

function readLocality(view: DataView, at: number, length: number, need: (n: number, what: string) => void): HmatLocality {
  need(LOCALITY_FIXED_BYTES, 'a locality structure');
  const flags = view.getUint8(at + 8);
  const dataType = view.getUint8(at + 9);
  const initiatorCount = view.getUint32(at + 12, true);
  const targetCount = view.getUint32(at + 16, true);
  // Counts come from the bytes: bound them by the structure before allocating anything.
  const bytesNeeded = LOCALITY_FIXED_BYTES + 4 * initiatorCount + 4 * targetCount + 2 * initiatorCount * targetCount;
  need(bytesNeeded, `${initiatorCount} initiators x ${targetCount} targets`);
  let p = at + LOCALITY_FIXED_BYTES;
  const list = (n: number): number[] => Array.from({ length: n }, () => {
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  });
  const initiators = list(initiatorCount);
  const targets = list(targetCount);
  const entries = initiators.map(() => targets.map(() => {
    const v = view.getUint16(p, true);
    p += 2;
    return v;
  }));
  const dataTypeName = HMAT_DATA_TYPES[dataType];
  return { hierarchy: flags & 0xf, flags, dataType, ...(dataTypeName ? { dataTypeName } : {}), entryBaseUnit: view.getBigUint64(at + 24, true), initiators, targets, entries };
}
