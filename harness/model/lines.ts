/** Model rows as the kernel prints them (Linux 6.1 wording), the form case expectations use. */
import { E820 } from './qemu.ts';
import type { E820Row, SratRow } from './types.ts';

const LABELS: Record<number, string> = { [E820.RAM]: 'usable', [E820.RESERVED]: 'reserved', [E820.SOFT_RESERVED]: 'soft reserved' };

/** `BIOS-e820: [mem 0x%016x-0x%016x] <type>`, as e820__print_table() prints it. */
export function e820Line(row: E820Row): string {
  return `BIOS-e820: [mem ${hex(row.start, 16)}-${hex(row.end, 16)}] ${LABELS[row.type] ?? `type ${row.type}`}`;
}

/** `ACPI: SRAT: Node N PXM P [mem %#010Lx-%#010Lx]`, as acpi_numa_memory_affinity_init() prints it. */
export function sratLine(row: SratRow): string {
  return `ACPI: SRAT: Node ${row.node} PXM ${row.pxm} [mem ${hex(row.start, 8)}-${hex(row.end, 8)}]`;
}

function hex(value: bigint, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}
