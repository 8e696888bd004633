import type { ConsoleLine } from './console.ts';
import { parseDax, type DaxDevice } from './dax.ts';
import { parseFirmwareMemmap, type FirmwareMemmapRow } from './firmware-memmap.ts';
import { parseIomem, type IomemNode } from './iomem.ts';
import { parseNodeAccess, type NodeAccess } from './node-access.ts';
import { parseNodeMeminfo, type NodeMeminfo } from './node-meminfo.ts';
import { decodeRawSection, isRawSection, type RawSectionName, type RawTable } from './tables/raw-section.ts';
import { parseUseDax, parseUseKmem, type DaxPatternResult, type KmemStep } from './use.ts';

/** A section's raw lines as the guest's init printed them (kernel messages taken out where recognisable). */
export interface GuestSection {
  name: string;
  lines: string[];
  /** The `end <name>` marker was seen. */
  closed: boolean;
}

/**
 * What the guest's init reported. A section that never began is undefined,
 * so "no dax devices" ([]) and "the guest program never got there" stay distinct.
 */
export interface GuestSections {
  initStarted: boolean;
  /** The raw firmware tables are all printed (`tables done`). */
  tablesDone: boolean;
  /** How long the guest took to read and print the raw tables, by its own clock (/proc/uptime, 10 ms steps). */
  tablesSeconds?: number;
  done: boolean;
  sections: GuestSection[];
  iomem?: IomemNode[];
  firmwareMemmap?: FirmwareMemmapRow[];
  nodeMeminfo?: Record<number, NodeMeminfo>;
  dax?: DaxDevice[];
  cmdline?: string;
  /** The raw tables (fw_cfg etc/e820, ACPI SRAT/SLIT/HMAT) by section name; a section never printed is absent. */
  rawTables: Partial<Record<RawSectionName, RawTable>>;
  /** The use steps a case asked for (undefined: the step did not run). */
  useDax?: DaxPatternResult[];
  /** The dax-pattern step's time on the guest's clock. */
  useDaxElapsedMs?: number;
  useKmem?: KmemStep;
  /** Each node's HMAT access class 0 attributes (undefined: the section was not printed). */
  nodeAccess?: NodeAccess[];
  /** The node-access section's time on the guest's clock. */
  nodeAccessMs?: number;
  /** Lines inside a section that fit none of its rows: interleaved untimed kernel output, or a format change. */
  stray: { section: string; text: string }[];
}

// The images engineer's init frames its output with these exact lines.
const MARKER = /^==== memmap-harness: (init start|tables done|probe done|begin (\S+)|end (\S+)) ====$/;
const TABLES_TIME = /^memmap-harness: tables read from uptime (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)$/;

/** Splits the framed guest output out of the console lines and parses each known section. */
export function parseGuestSections(lines: readonly ConsoleLine[]): GuestSections {
  const { initStarted, tablesDone, done, sections } = frame(lines);
  const guest: GuestSections = { initStarted, tablesDone, done, sections, rawTables: {}, stray: [] };
  const time = lines.map((line) => TABLES_TIME.exec(line.text.trim())).find((m) => m !== null);
  if (time) guest.tablesSeconds = Math.max(0, Number(time[2]) - Number(time[1]));
  for (const section of sections) parseSection(guest, section);
  return guest;
}

function frame(lines: readonly ConsoleLine[]): Pick<GuestSections, 'initStarted' | 'tablesDone' | 'done' | 'sections'> {
  let initStarted = false;
  let tablesDone = false;
  let done = false;
  const sections: GuestSection[] = [];
  let open: GuestSection | undefined;
  for (const line of lines) {
    const marker = MARKER.exec(line.text.trim());
    if (marker) {
      const [, what, begin, end] = marker;
      if (what === 'init start') initStarted = true;
      else if (what === 'tables done') tablesDone = true;
      else if (what === 'probe done') done = true;
      else if (begin !== undefined) sections.push((open = { name: begin, lines: [], closed: false }));
      else if (end !== undefined && open?.name === end) {
        open.closed = true;
        open = undefined;
      }
      continue;
    }
    // A printk timestamp marks a kernel message; init's own lines never carry one.
    if (open && line.time === undefined) open.lines.push(line.text);
  }
  return { initStarted, tablesDone, done, sections };
}

function parseSection(guest: GuestSections, section: GuestSection): void {
  // A section never closed was cut by the harness stopping the guest (an early
  // verdict at "tables done" races the guest's next lines): its last line may be
  // half a line. That is the stop's doing, not a console message inside the section.
  let cutByStop = section.closed ? undefined : section.lines.at(-1);
  const stray = (texts: string[]): void => {
    for (const text of texts) {
      if (text === cutByStop) cutByStop = undefined;
      else guest.stray.push({ section: section.name, text });
    }
  };
  switch (section.name) {
    case 'iomem': {
      const parsed = parseIomem(section.lines);
      guest.iomem = parsed.roots;
      stray(parsed.stray);
      break;
    }
    case 'firmware-memmap': {
      const parsed = parseFirmwareMemmap(section.lines);
      guest.firmwareMemmap = parsed.rows;
      stray(parsed.stray);
      break;
    }
    case 'node-meminfo': {
      const parsed = parseNodeMeminfo(section.lines);
      guest.nodeMeminfo = parsed.nodes;
      stray(parsed.stray);
      break;
    }
    case 'dax': {
      const parsed = parseDax(section.lines);
      guest.dax = parsed.devices;
      stray(parsed.stray);
      break;
    }
    case 'use-dax': {
      const parsed = parseUseDax(section.lines);
      guest.useDax = parsed.value;
      if (parsed.elapsedMs !== undefined) guest.useDaxElapsedMs = parsed.elapsedMs;
      stray(parsed.stray);
      break;
    }
    case 'use-kmem': {
      const parsed = parseUseKmem(section.lines);
      guest.useKmem = parsed.value;
      stray(parsed.stray);
      break;
    }
    case 'node-access': {
      const parsed = parseNodeAccess(section.lines);
      guest.nodeAccess = parsed.nodes;
      if (parsed.elapsedMs !== undefined) guest.nodeAccessMs = parsed.elapsedMs;
      stray(parsed.stray);
      break;
    }
    case 'cmdline': {
      const [first, ...rest] = section.lines.filter((text) => text.trim() !== '');
      guest.cmdline = first?.trim() ?? '';
      stray(rest);
      break;
    }
    default:
      if (isRawSection(section.name)) {
        const decoded = decodeRawSection(section.lines, section.closed);
        guest.rawTables[section.name] = decoded.table;
        stray(decoded.stray);
      }
      break;
  }
}
