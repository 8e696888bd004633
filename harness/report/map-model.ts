import type { Finding } from '../expect/check.ts';
import { e820Kind } from '../expect/e820-kind.ts';
import type { Row, RowChange } from '../expect/rows.ts';
import { E820_TYPE } from '../parse/e820.ts';
import type { Verdict } from './verdict.ts';

/** An E820 range as the map draws it (E820Entry fits). Bounds inclusive. */
export interface MapRow {
  start: bigint;
  end: bigint;
  type: number;
}

/** An SRAT memory affinity range (SratMemory fits). Bounds inclusive. */
export interface NodeRow {
  node: number;
  pxm: number;
  start: bigint;
  end: bigint;
}

/** What the case expected, as whole tables; absent parts are taken as equal to the actual ones. */
export interface ExpectedRows {
  e820?: readonly MapRow[];
  srat?: readonly NodeRow[];
}

/** The short name of an E820 type, as Linux 6.1 prints it ("usable", "soft reserved", "type 20"). */
export function e820Name(type: number): string {
  const name = e820Kind(type).replace(/ \(type [^)]*\)$/, '');
  return name === 'type' ? `type ${type}` : name;
}

/** The inverse of e820Kind(): the type number inside "… (type 0xEFFFFFFF)" or "… (type 4)". */
export function typeOfKind(kind: string): number | undefined {
  const digits = /\(type (0x[0-9a-f]+|\d+)\)$/i.exec(kind)?.[1];
  return digits === undefined ? undefined : Number(digits);
}

const UNKNOWN_TYPE = -1;

/**
 * The expected tables, rebuilt from the failed row checks: the actual rows,
 * minus the ones a change names as actual, plus the ones it names as expected.
 * Rows a check left out of scope (below 4 GiB for `above-4g`) stay as they are,
 * so both columns show the whole map and differ only where the check did.
 */
export function expectedFromFindings(v: Pick<Verdict, 'findings' | 'e820' | 'srat'>): ExpectedRows {
  const e820 = changesOf(v.findings, 'e820');
  const srat = changesOf(v.findings, 'srat');
  return {
    e820: e820 && applyReverse(v.e820, e820, e820Row, (r) => ({ start: r.start, end: r.end, type: typeOfKind(r.kind) ?? UNKNOWN_TYPE })),
    srat: srat && applyReverse(v.srat, srat, sratRow, nodeRowOf),
  };
}

/** The row-checker's view of an E820 range. */
export function e820Row(r: MapRow): Row {
  return { start: r.start, end: r.end, kind: e820Kind(r.type) };
}

/** The row-checker's view of an SRAT range. */
export function sratRow(r: NodeRow): Row {
  return { start: r.start, end: r.end, kind: `node ${r.node} PXM ${r.pxm}` };
}

function nodeRowOf(r: Row): NodeRow {
  const [, node = '-1', pxm = '-1'] = /^node (\d+) PXM (\d+)$/.exec(r.kind) ?? [];
  return { node: Number(node), pxm: Number(pxm), start: r.start, end: r.end };
}

function changesOf(findings: readonly Finding[], aspect: 'e820' | 'srat'): RowChange[] | undefined {
  const changes = findings.filter((f) => f.aspect === aspect && !f.ok).flatMap((f) => f.rows ?? []);
  return changes.length > 0 ? changes : undefined;
}

function applyReverse<T extends { start: bigint }>(actual: readonly T[], changes: readonly RowChange[], toRow: (t: T) => Row, fromRow: (r: Row) => T): T[] {
  const kept = [...actual];
  for (const c of changes) {
    if (!('actual' in c)) continue;
    const i = kept.findIndex((t) => sameRow(toRow(t), c.actual));
    if (i >= 0) kept.splice(i, 1);
  }
  const added = changes.flatMap((c) => ('expected' in c ? [fromRow(c.expected)] : []));
  return [...kept, ...added].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** Same bounds and kind: the identity the row diff uses. */
export function sameRow(a: Row, b: Row): boolean {
  return a.start === b.start && a.end === b.end && a.kind === b.kind;
}

/** Colours by E820 type; soft reserved, the patch's subject, stands out. */
export const E820_COLOURS: ReadonlyMap<number, string> = new Map([
  [E820_TYPE.RAM, '#8fd18f'],
  [E820_TYPE.RESERVED, '#bdbdbd'],
  [E820_TYPE.SOFT_RESERVED, '#f5a623'],
  [E820_TYPE.ACPI, '#9ecae1'],
  [E820_TYPE.NVS, '#6fa8dc'],
  [E820_TYPE.UNUSABLE, '#e57373'],
  [E820_TYPE.PMEM, '#c49a6c'],
  [E820_TYPE.PRAM, '#b39ddb'],
]);

/** Colour for types no table above names (vendor or future types). */
export const OTHER_COLOUR = '#f48fb1';

/** Node band colours, by node number modulo the palette. */
export const NODE_COLOURS = ['#cfe0f3', '#f6d3e6', '#d5efe9', '#fff2b3', '#e3d7f4', '#f9dccb', '#dfe9c6', '#e0e0e0'] as const;
