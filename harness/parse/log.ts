import { normaliseConsole, type ConsoleLine } from './console.ts';
import { parseE820, type E820Entry, type E820Gap, type E820Malformed, type E820Table } from './e820.ts';
import { readLayers, type Layers } from './layers.ts';
import { parseGuestSections, type GuestSections } from './guest-sections.ts';
import { parseSrat, type SratCpu, type SratMemory } from './srat.ts';

export { formatAddress, toJson, toJsonValue, type JsonValue } from './json.ts';

/** Everything the harness reads from one guest's serial log. */
export interface SerialLog {
  /** The kernel release from `Linux version <release> …`, when the kernel got that far. */
  kernelVersion?: string;
  /** The firmware map the kernel was handed (`BIOS-e820:` rows), in printed order. */
  e820: E820Entry[];
  /** `BIOS-e820: [gap …]` rows (Linux 7.x); never part of `e820`. */
  e820Gaps: E820Gap[];
  /** The map after `memmap=`/`mem=` (`user:` rows), present only when the command line changed it. */
  userE820?: E820Entry[];
  /** Every e820 table printed, by `who` (`BIOS-e820`, `user`, `modified`, …). */
  e820Tables: Record<string, E820Table>;
  /** Lines of an e820 table that did not parse; each is also a warning. */
  e820Malformed: E820Malformed[];
  srat: SratMemory[];
  /** CPU affinity lines; empty where the kernel prints them at debug level only (6.12 and later). */
  sratCpus: SratCpu[];
  /** Lines that name a PXM but do not parse; each is also a warning. */
  sratMalformed: { text: string; rawLine: number }[];
  /** What the guest program (images/guest/init) printed, section by section. */
  guest: GuestSections;
  /** QEMU's etc/e820 and the raw ACPI tables, decoded from the guest program's raw sections. */
  layers: Layers;
  lines: ConsoleLine[];
  /** Things a caller should not silently ignore: damaged or unknown e820 rows and SRAT lines, a table or banner printed twice. */
  warnings: string[];
}

const BANNER = /^Linux version (\S+) /;

/** The one entry point: a raw serial capture in, typed data out. */
export function parseSerialLog(raw: string): SerialLog {
  const lines = normaliseConsole(raw);
  const { tables, malformed } = parseE820(lines);
  const bios = tables.get('BIOS-e820');
  const user = tables.get('user');
  const srat = parseSrat(lines);
  const banners = lines.flatMap((line) => BANNER.exec(line.text)?.[1] ?? []);
  const guest = parseGuestSections(lines);
  return {
    kernelVersion: banners[0],
    e820: bios?.entries ?? [],
    e820Gaps: bios?.gaps ?? [],
    userE820: user?.entries,
    e820Tables: Object.fromEntries(tables),
    e820Malformed: malformed,
    srat: srat.memory,
    sratCpus: srat.cpus,
    sratMalformed: srat.malformed,
    guest,
    layers: readLayers(guest),
    lines,
    warnings: [
      ...malformed.map((row) => `raw line ${row.rawLine}: ${row.reason}: '${row.text}'`),
      ...srat.malformed.map((row) => `raw line ${row.rawLine}: damaged SRAT line: '${row.text}'`),
      ...[...tables.values()].flatMap(orderWarning),
      ...(banners.length > 1 ? [`${banners.length} 'Linux version' banners: the log holds more than one boot`] : []),
    ],
  };
}

function orderWarning(table: E820Table): string[] {
  return isAscending(table.entries) ? [] : [`${table.who}: rows not in ascending order: table printed twice, or two boots`];
}

// The kernel sanitises (sorts, de-overlaps) a table before printing it.
function isAscending(entries: readonly E820Entry[]): boolean {
  return entries.every((entry, i) => i === 0 || (entries[i - 1] as E820Entry).end < entry.start);
}
