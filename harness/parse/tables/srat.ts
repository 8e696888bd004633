/**
 * The ACPI System Resource Affinity Table (ACPI 6.5, 5.2.16), read from its
 * raw bytes: header, 12 reserved bytes, then affinity structures (type u8,
 * length u8). Memory affinity (type 1, 40 bytes) is what the harness checks;
 * processor (0), x2APIC (2) and generic initiator (5) structures are read for
 * their proximity domains, any other type is kept as unknown.
 */
import { ACPI_HEADER_BYTES, AcpiTableError, readAcpiHeader, viewOf, type AcpiHeader } from './acpi-header.ts';

/** Memory affinity flags (ACPI 6.5 Table 5.59). */
export interface SratMemoryFlags {
  enabled: boolean;
  hotpluggable: boolean;
  nonVolatile: boolean;
  /** The flags word as read (bits beyond the three above are reserved). */
  raw: number;
}

/** One memory affinity structure. `end` is inclusive and absent for an entry of length 0 (QEMU pads SRAT with such disabled entries). */
export interface SratMemoryAffinity {
  pxm: number;
  start: bigint;
  length: bigint;
  end?: bigint;
  flags: SratMemoryFlags;
}

export interface SratCpuAffinity {
  kind: 'apic' | 'x2apic';
  pxm: number;
  apicId: number;
  enabled: boolean;
}

export interface SratTable {
  header: AcpiHeader;
  memory: SratMemoryAffinity[];
  cpus: SratCpuAffinity[];
  genericInitiators: { pxm: number; enabled: boolean }[];
  /** Structures of other types, by type and length. */
  unknown: { type: number; length: number }[];
}

const SRAT_FIXED_BYTES = ACPI_HEADER_BYTES + 12;
const MEMORY_AFFINITY = { type: 1, length: 40 } as const;

/** Decodes an SRAT. Throws AcpiTableError for a bad header, checksum or a structure that runs past the end. */
export function parseSrat(bytes: Uint8Array): SratTable {
  const header = readAcpiHeader(bytes, 'SRAT');
  if (bytes.length < SRAT_FIXED_BYTES) throw new AcpiTableError(`SRAT: ${bytes.length} bytes, shorter than its fixed part (${SRAT_FIXED_BYTES})`);
  const view = viewOf(bytes);
  const table: SratTable = { header, memory: [], cpus: [], genericInitiators: [], unknown: [] };
  for (let at = SRAT_FIXED_BYTES; at < bytes.length; ) {
    if (at + 2 > bytes.length) throw new AcpiTableError(`SRAT: a structure header at offset ${at} runs past the end`);
    const type = bytes[at] as number;
    const length = bytes[at + 1] as number;
    if (length < 2 || at + length > bytes.length) throw new AcpiTableError(`SRAT: structure type ${type} at offset ${at} has length ${length}, past the table's end (${bytes.length})`);
    const need = (n: number) => {
      if (length < n) throw new AcpiTableError(`SRAT: structure type ${type} at offset ${at} is ${length} bytes, needs ${n}`);
    };
    switch (type) {
      case 0: {
        need(16);
        const pxm = (bytes[at + 2] as number) | ((bytes[at + 9] as number) << 8) | ((bytes[at + 10] as number) << 16) | ((bytes[at + 11] as number) << 24);
        table.cpus.push({ kind: 'apic', pxm: pxm >>> 0, apicId: bytes[at + 3] as number, enabled: (view.getUint32(at + 4, true) & 1) === 1 });
        break;
      }
      case MEMORY_AFFINITY.type: {
        need(MEMORY_AFFINITY.length);
        const start = view.getBigUint64(at + 8, true);
        const len = view.getBigUint64(at + 16, true);
        const raw = view.getUint32(at + 28, true);
        table.memory.push({
          pxm: view.getUint32(at + 2, true),
          start,
          length: len,
          ...(len > 0n ? { end: start + len - 1n } : {}),
          flags: { enabled: (raw & 1) !== 0, hotpluggable: (raw & 2) !== 0, nonVolatile: (raw & 4) !== 0, raw },
        });
        break;
      }
      case 2:
        need(24);
        table.cpus.push({ kind: 'x2apic', pxm: view.getUint32(at + 4, true), apicId: view.getUint32(at + 8, true), enabled: (view.getUint32(at + 12, true) & 1) === 1 });
        break;
      case 5:
        need(32);
        table.genericInitiators.push({ pxm: view.getUint32(at + 4, true), enabled: (view.getUint32(at + 24, true) & 1) === 1 });
        break;
      default:
        table.unknown.push({ type, length });
    }
    at += length;
  }
  return table;
}

/** The flags in words, as reports show them: `enabled`, `enabled hotpluggable`, `disabled`. */
export function flagWords(flags: SratMemoryFlags): string {
  const words = [flags.enabled ? 'enabled' : 'disabled', ...(flags.hotpluggable ? ['hotpluggable'] : []), ...(flags.nonVolatile ? ['non-volatile'] : [])];
  return words.join(' ');
}
