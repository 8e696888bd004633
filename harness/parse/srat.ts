import type { SratRow } from '../core/vocabulary.ts';
import type { ConsoleLine } from './console.ts';

/** One `ACPI: SRAT: Node N PXM P [mem start-end][ hotplug][ non-volatile]` line; `end` inclusive. */
export interface SratMemory extends SratRow {
  hotplug: boolean;
  nonVolatile: boolean;
  rawLine: number;
}

/** One `SRAT: PXM P -> APIC 0xA -> Node N` line (arch/x86/mm/srat.c; printed by 6.1, pr_debug by 6.12 and later). */
export interface SratCpu {
  pxm: number;
  apicId: number;
  node: number;
  rawLine: number;
}

export interface SratParse {
  memory: SratMemory[];
  cpus: SratCpu[];
  /** Lines that name a PXM but fit neither shape: a damaged capture, or a format this parser does not know. */
  malformed: { text: string; rawLine: number }[];
}

// drivers/acpi/numa/srat.c, acpi_numa_memory_affinity_init(): pr_fmt "ACPI: ",
// addresses `%#010Lx` (at least 8 hex digits, more above 4 GiB), flags in this order.
const MEMORY = /^ACPI: SRAT: Node (\d+) PXM (\d+) \[mem (0x[0-9a-f]{8,})-(0x[0-9a-f]{8,})\]( hotplug)?( non-volatile)?$/;

// arch/x86/mm/srat.c has no pr_fmt, so no `ACPI: `. `%02x` for xAPIC, `%04x` for x2APIC.
const CPU = /^SRAT: PXM (\d+) -> APIC 0x([0-9a-f]{2,}) -> Node (\d+)$/;

// Both shapes above name a PXM; no other line of the captures does.
const MENTIONS_PXM = /\bPXM\b/;

/** Parses the SRAT memory and CPU affinity lines in printed order. */
export function parseSrat(lines: readonly ConsoleLine[]): SratParse {
  const result: SratParse = { memory: [], cpus: [], malformed: [] };
  for (const line of lines) {
    const memory = memoryOf(line);
    const cpu = memory ? undefined : cpuOf(line);
    if (memory) result.memory.push(memory);
    else if (cpu) result.cpus.push(cpu);
    else if (MENTIONS_PXM.test(line.text)) result.malformed.push({ text: line.text, rawLine: line.rawLine });
  }
  return result;
}

function memoryOf(line: ConsoleLine): SratMemory | undefined {
  const match = MEMORY.exec(line.text);
  if (!match) return undefined;
  const [, node = '', pxm = '', start = '', end = '', hotplug, nonVolatile] = match;
  return {
    node: Number(node),
    pxm: Number(pxm),
    start: BigInt(start),
    end: BigInt(end),
    hotplug: hotplug !== undefined,
    nonVolatile: nonVolatile !== undefined,
    rawLine: line.rawLine,
  };
}

function cpuOf(line: ConsoleLine): SratCpu | undefined {
  const match = CPU.exec(line.text);
  if (!match) return undefined;
  const [, pxm = '', apic = '', node = ''] = match;
  return { pxm: Number(pxm), apicId: Number.parseInt(apic, 16), node: Number(node), rawLine: line.rawLine };
}
