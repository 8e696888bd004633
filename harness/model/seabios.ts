/**
 * SeaBIOS's E820 list as the guest receives it (src/fw/paravirt.c,
 * src/malloc.c, src/fw/pciinit.c, src/post.c of SeaBIOS 1.16.2), starting
 * from QEMU's etc/e820. Each step is an e820_add() that overwrites what it
 * overlaps, so the order of the steps below is SeaBIOS's order.
 */
import type { MachineType } from '../case/types.ts';
import { E820_TYPE } from '../core/vocabulary.ts';
import { paint, type Span } from './ranges.ts';

const KIB = 1n << 10n;
const MIB = 1n << 20n;
const BIOS_ROM = { start: 0xfffc0000n, end: 1n << 32n }; // "reserve 256KB BIOS area at the end of 4 GB"
const LOWRAM_END = 0xa0000n; // BUILD_LOWRAM_END
const BIOS_ADDR = 0xf0000n; // BUILD_BIOS_ADDR, 64 KiB
const EBDA_START = 0x9fc00n; // 1 KiB EBDA below 640 KiB
const Q35_MMCONFIG = { start: 0xb0000000n, end: 0xc0000000n }; // mch_mem_addr_setup
const Q35_RCBA = { start: 0xfed1c000n, end: 0xfed20000n }; // ICH9_LPC_RCBA_ADDR, 16 KiB
const HIGHTABLE_MAX = 256n * KIB; // BUILD_MAX_HIGHTABLE
// After the ACPI/SMBIOS tables are built, the unused part of the 256 KiB high
// table zone goes back to RAM; 128 KiB stayed reserved on every boot measured
// (pc and q35, 1-4 nodes, 1-8 vCPUs).
const HIGHTABLE_KEPT = 128n * KIB;

/** The guest's map as a firmware hands it over. */
export interface FirmwareMap {
  spans: Span[];
  /** Whether the firmware built ACPI tables (so SRAT). SeaBIOS puts them in RAM below 4 GiB; without any, there are none. */
  acpiTables: boolean;
  /** Whether the guest gets any usable RAM at all: without, the kernel cannot start. */
  usableRam: boolean;
}

/** SeaBIOS's E820 list for QEMU's etc/e820 entries on `machine`. */
export function seabiosE820(qemuEntries: readonly Span[], machine: MachineType): FirmwareMap {
  let map: Span[] = [];
  // qemu_early_e820(): only RAM and RESERVED entries are copied; any other type is dropped.
  for (const e of qemuEntries) {
    if (e.type === E820_TYPE.RAM || e.type === E820_TYPE.RESERVED) map = paint(map, e.start, e.end, e.type);
  }
  map = paint(map, BIOS_ROM.start, BIOS_ROM.end, E820_TYPE.RESERVED);
  // malloc_preinit(): nothing between 640 KiB and the BIOS; the BIOS itself reserved.
  map = paint(map, LOWRAM_END, BIOS_ADDR, null);
  map = paint(map, BIOS_ADDR, MIB, E820_TYPE.RESERVED);
  const table = highTable(map);
  if (machine === 'q35') {
    map = paint(map, Q35_MMCONFIG.start, Q35_MMCONFIG.end, E820_TYPE.RESERVED);
    map = paint(map, Q35_RCBA.start, Q35_RCBA.end, E820_TYPE.RESERVED);
  }
  map = paint(map, EBDA_START, LOWRAM_END, E820_TYPE.RESERVED);
  if (table) map = paint(map, table.end - HIGHTABLE_KEPT, table.end, E820_TYPE.RESERVED);
  return { spans: map, acpiTables: table !== undefined, usableRam: map.some((s) => s.type === E820_TYPE.RAM) };
}

/**
 * malloc_preinit(): the high table zone is the top 256 KiB of the highest RAM
 * range that ends below 4 GiB (and above 1 MiB). None: SeaBIOS has nowhere
 * to put ACPI tables.
 */
function highTable(map: readonly Span[]): { start: bigint; end: bigint } | undefined {
  for (let i = map.length - 1; i >= 0; i--) {
    const span = map[i];
    if (!span || span.end < MIB) break;
    if (span.type !== E820_TYPE.RAM || span.end > 0xffffffffn) continue;
    const start = alignDown(span.end - HIGHTABLE_MAX, 16n);
    // Smaller ranges would get BUILD_MIN_HIGHTABLE; no layout of 256 MiB nodes has one.
    if (start >= span.start + HIGHTABLE_MAX) return { start, end: start + HIGHTABLE_MAX };
  }
  return undefined;
}

function alignDown(value: bigint, align: bigint): bigint {
  return value - (value % align);
}
