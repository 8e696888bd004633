import type { CaseFile, CaseSpec, Expectations, ExpectationsFile } from '../case/types.ts';
import { paddedRangeText } from '../core/range-text.ts';
import { e820Name, type E820Row, type SratRow } from '../core/vocabulary.ts';
import { e820TypeOfLabel } from '../parse/e820-labels.ts';

/**
 * A CaseSpec turned back into the case file it came from: e820 and SRAT rows
 * as the kernel lines a case file writes. A report records the case as it ran
 * (typed rows); rendering it back lets `reproduce` put that data through the
 * very validator a case file goes through. Rows that are not rows (wrong
 * types, from a tampered report) are left as they are, for the validator to
 * refuse by field name.
 */
export function caseFileOf(spec: CaseSpec): CaseFile {
  const { expect, onFirmware, ...rest } = spec;
  const file: CaseFile = { ...rest, expect: expectationsFileOf(expect) };
  if (onFirmware !== undefined && typeof onFirmware === 'object' && onFirmware !== null) {
    file.onFirmware = Object.fromEntries(Object.entries(onFirmware).map(([id, variant]) => [id, { ...variant, expect: expectationsFileOf(variant?.expect) }]));
  }
  return file;
}

function expectationsFileOf(expect: Expectations | undefined): ExpectationsFile {
  if (typeof expect !== 'object' || expect === null) return expect as unknown as ExpectationsFile;
  const { e820, srat, ...rest } = expect;
  const out: ExpectationsFile = { ...rest };
  if (e820 !== undefined) out.e820 = { scope: e820?.scope, lines: Array.isArray(e820?.rows) ? e820.rows.map(e820Line) : (e820?.rows as unknown as string[]) };
  if (srat !== undefined) out.srat = Array.isArray(srat) ? srat.map(sratLine) : (srat as unknown as string[]);
  return out;
}

/** `BIOS-e820: [mem 0x…-0x…] <type>` as 6.1 prints it (`type N` where its name would not read back as N). */
function e820Line(row: E820Row): string {
  if (!isRange(row) || !Number.isInteger(row.type)) return String(row);
  const name = e820Name(row.type);
  const label = e820TypeOfLabel(name) === row.type ? name : `type ${row.type}`;
  return `BIOS-e820: [mem ${paddedRangeText(row)}] ${label}`;
}

/** `ACPI: SRAT: Node N PXM P [mem 0x…-0x…][ hotplug]`. */
function sratLine(row: SratRow): string {
  if (!isRange(row) || !Number.isInteger(row.node) || !Number.isInteger(row.pxm)) return String(row);
  return `ACPI: SRAT: Node ${row.node} PXM ${row.pxm} [mem ${paddedRangeText(row, 8)}]${row.hotplug === true ? ' hotplug' : ''}`;
}

function isRange(row: unknown): row is { start: bigint; end: bigint } {
  const r = row as { start?: unknown; end?: unknown };
  return typeof r === 'object' && r !== null && typeof r.start === 'bigint' && typeof r.end === 'bigint' && r.start >= 0n && r.end >= 0n;
}
