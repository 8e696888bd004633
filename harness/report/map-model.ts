import { byStart, E820_TYPE, sameRow, type E820Row, type Finding, type RowChange, type SratRow, type TableRow, type Verdict } from '../core/vocabulary.ts';

/** What the case expected, as whole tables; absent parts are taken as equal to the actual ones. */
export interface ExpectedRows {
  e820?: readonly E820Row[];
  srat?: readonly SratRow[];
}

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
    e820: e820 && applyReverse(v.e820, e820 as RowChange<E820Row>[]),
    srat: srat && applyReverse(v.srat, srat as RowChange<SratRow>[]),
  };
}

function changesOf(findings: readonly Finding[], aspect: 'e820' | 'srat'): RowChange[] | undefined {
  const changes = findings.filter((f) => f.aspect === aspect && !f.ok).flatMap((f) => f.rows ?? []);
  return changes.length > 0 ? changes : undefined;
}

function applyReverse<T extends TableRow>(actual: readonly T[], changes: readonly RowChange<T>[]): T[] {
  const kept = [...actual];
  for (const c of changes) {
    if (!('actual' in c)) continue;
    const i = kept.findIndex((t) => sameRow(t, c.actual));
    if (i >= 0) kept.splice(i, 1);
  }
  const added = changes.flatMap((c) => ('expected' in c ? [c.expected] : []));
  return [...kept, ...added].sort(byStart);
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
