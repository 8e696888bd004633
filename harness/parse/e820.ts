import { E820_TYPE, type PrintedE820Row } from '../core/vocabulary.ts';
import { e820TypeOfLabel } from './e820-labels.ts';
import type { ConsoleLine } from './console.ts';

export { E820_TYPE, e820TypeOfLabel };

/** One `<who>: [mem start-end] <type>` row; `end` is inclusive, as the kernel prints it. */
export interface E820Entry extends PrintedE820Row {
  rawLine: number;
}

/** A `<who>: [gap start-end]` row (Linux 7.x): a hole between entries, not a range of any type. */
export interface E820Gap {
  start: bigint;
  end: bigint;
  rawLine: number;
}

/** One table as printed by e820__print_table(who). */
export interface E820Table {
  who: string;
  entries: E820Entry[];
  gaps: E820Gap[];
}

/** A line that belongs to an e820 table but does not parse: a damaged capture, or a format this parser does not know. */
export interface E820Malformed {
  text: string;
  rawLine: number;
  reason: string;
}

export interface E820Parse {
  /** Keyed by `who`, rows in printed order. */
  tables: Map<string, E820Table>;
  malformed: E820Malformed[];
}

// The `who` strings e820__print_table() is called with (arch/x86/kernel/e820.c,
// arch/x86/kernel/setup.c): the firmware's map, memmap=/mem=, later edits.
// `reserve setup_data` is what 6.1 names its extended map.
const KNOWN_WHO = new Set(['BIOS-e820', 'user', 'modified', 'extended', 'reserve setup_data']);

// `%s: [mem %#018Lx-%#018Lx]` then the type: one space in 6.1, two in 7.x
// (the type text there carries its own leading space). Gaps have no type.
const ROW = /^(\w[\w -]*?): \[(mem|gap) (0x[0-9a-f]{16})-(0x[0-9a-f]{16})\](.*)$/;

// Inside a table, a line that is not a row but mentions e820, a range bracket or a
// long hex run is a damaged row (serial captures do drop characters), not the
// table's end. The lines that really end a table (`NX (Execute Disable)…`,
// `SMBIOS 2.8 present.`) have none of these.
const ROW_LIKE = /e820|\[(?:mem|gap)\b|[0-9a-f]{8}/i;

// The kernel's own `e820: update [mem …]`, `e820: remove …` (printed with
// loglevel=debug, possibly right after a table) are messages, not rows.
const E820_MESSAGE = /^e820: [a-z]/;

// `BIOS-provided physical RAM map:`, `user-defined physical RAM map:`… precede a table.
const HEADER = /physical RAM map:$/;

/**
 * Parses every e820 table in the log. A line inside a table (after its header
 * or another row) that is not a well-formed row, or a well-formed row with an
 * unknown `who` or type text, is reported as malformed, never guessed at.
 */
export function parseE820(lines: readonly ConsoleLine[]): E820Parse {
  const result: E820Parse = { tables: new Map(), malformed: [] };
  let inTable = false;
  for (const line of lines) {
    if (HEADER.test(line.text)) {
      inTable = true;
      continue;
    }
    const problem = addRow(result.tables, line);
    if (problem === undefined) {
      inTable = true;
    } else if (problem !== NOT_A_ROW) {
      result.malformed.push({ text: line.text, rawLine: line.rawLine, reason: problem });
    } else if (inTable && ROW_LIKE.test(line.text) && !E820_MESSAGE.test(line.text)) {
      result.malformed.push({ text: line.text, rawLine: line.rawLine, reason: 'damaged e820 row' });
    } else {
      inTable = false;
    }
  }
  return result;
}

const NOT_A_ROW = 'not a row';

/** Adds the line's row to its table; returns why it could not, or undefined on success. */
function addRow(tables: Map<string, E820Table>, line: ConsoleLine): string | undefined {
  const match = ROW.exec(line.text);
  if (!match) return NOT_A_ROW;
  const [, who = '', kind, startHex = '', endHex = '', rest = ''] = match;
  if (!KNOWN_WHO.has(who)) return `unknown e820 table prefix '${who}'`;
  const table = tableFor(tables, who);
  const start = BigInt(startHex);
  const end = BigInt(endHex);
  if (kind === 'gap') {
    if (rest.trim() !== '') return `text after a gap: '${rest.trim()}'`;
    table.gaps.push({ start, end, rawLine: line.rawLine });
    return undefined;
  }
  const label = rest.trim();
  const type = e820TypeOfLabel(label);
  if (type === undefined) return `unknown e820 type text '${label}'`;
  table.entries.push({ start, end, type, label, rawLine: line.rawLine });
  return undefined;
}

function tableFor(tables: Map<string, E820Table>, who: string): E820Table {
  let table = tables.get(who);
  if (!table) {
    table = { who, entries: [], gaps: [] };
    tables.set(who, table);
  }
  return table;
}
