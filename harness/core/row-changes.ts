import { byStart, rowKind, type RowChange, type TableRow } from './vocabulary.ts';
import { humanSize } from '../util/size.ts';
import { paddedRangeText } from './range-text.ts';

export type { RowChange } from './vocabulary.ts';

/**
 * Row-level diff: identical rows match; rows with the same bounds but another
 * kind are a changed type; overlapping rows with other bounds are changed
 * bounds; whatever is left is missing (expected only) or extra (actual only).
 */
export function diffRows<T extends TableRow>(expected: readonly T[], actual: readonly T[]): RowChange<T>[] {
  const unmatchedActual = [...actual];
  const leftover: T[] = [];
  for (const row of expected) {
    const i = unmatchedActual.findIndex((a) => sameBounds(a, row) && rowKind(a) === rowKind(row));
    if (i >= 0) unmatchedActual.splice(i, 1);
    else leftover.push(row);
  }
  const changes: RowChange<T>[] = [];
  for (const row of leftover) {
    const sameRange = unmatchedActual.findIndex((a) => sameBounds(a, row));
    const overlapping = sameRange >= 0 ? sameRange : unmatchedActual.findIndex((a) => overlaps(a, row));
    if (overlapping < 0) {
      changes.push({ change: 'missing', expected: row });
      continue;
    }
    const [match] = unmatchedActual.splice(overlapping, 1) as [T];
    changes.push({ change: sameRange >= 0 ? 'changed type' : 'changed bounds', expected: row, actual: match });
  }
  for (const row of unmatchedActual) changes.push({ change: 'extra', actual: row });
  return changes.sort((a, b) => byStart(firstRow(a), firstRow(b)));
}

/** One line per change, with addresses and sizes in human units. */
export function formatRowChanges(changes: readonly RowChange[]): string[] {
  return changes.map((c) => {
    switch (c.change) {
      case 'missing':
        return `  - missing        ${describe(c.expected)}`;
      case 'extra':
        return `  + extra          ${describe(c.actual)}`;
      case 'changed type':
        return `  ~ changed type   ${range(c.expected)}: expected ${rowKind(c.expected)}, got ${rowKind(c.actual)}`;
      case 'changed bounds':
        return `  ~ changed bounds expected ${describe(c.expected)}, got ${describe(c.actual)}`;
    }
  });
}

/** `[0x…-0x…] kind (size)` for one row. */
export function describe(row: TableRow): string {
  return `${range(row)} ${rowKind(row)} (${humanSize(row.end - row.start + 1n)})`;
}

function range(row: TableRow): string {
  return `[${paddedRangeText(row)}]`;
}

function sameBounds(a: TableRow, b: TableRow): boolean {
  return a.start === b.start && a.end === b.end;
}

function overlaps(a: TableRow, b: TableRow): boolean {
  return a.start <= b.end && b.start <= a.end;
}

function firstRow(c: RowChange): TableRow {
  return 'expected' in c ? c.expected : c.actual;
}
