import { hex, humanSize } from '../util/size.ts';

/** An address range with what it is: an E820 type label, or a NUMA node for SRAT. Bounds are inclusive, as printed. */
export interface Row {
  start: bigint;
  end: bigint;
  kind: string;
}

/** One difference between expected and actual rows. */
export type RowChange =
  | { change: 'missing'; expected: Row }
  | { change: 'extra'; actual: Row }
  | { change: 'changed type'; expected: Row; actual: Row }
  | { change: 'changed bounds'; expected: Row; actual: Row };

/**
 * Row-level diff: identical rows match; rows with the same bounds but another
 * kind are a changed type; overlapping rows with other bounds are changed
 * bounds; whatever is left is missing (expected only) or extra (actual only).
 */
export function diffRows(expected: Row[], actual: Row[]): RowChange[] {
  const unmatchedActual = [...actual];
  const leftover: Row[] = [];
  for (const row of expected) {
    const i = unmatchedActual.findIndex((a) => sameBounds(a, row) && a.kind === row.kind);
    if (i >= 0) unmatchedActual.splice(i, 1);
    else leftover.push(row);
  }
  const changes: RowChange[] = [];
  for (const row of leftover) {
    const sameRange = unmatchedActual.findIndex((a) => sameBounds(a, row));
    const overlapping = sameRange >= 0 ? sameRange : unmatchedActual.findIndex((a) => overlaps(a, row));
    if (overlapping < 0) {
      changes.push({ change: 'missing', expected: row });
      continue;
    }
    const [match] = unmatchedActual.splice(overlapping, 1) as [Row];
    changes.push({ change: sameRange >= 0 ? 'changed type' : 'changed bounds', expected: row, actual: match });
  }
  for (const row of unmatchedActual) changes.push({ change: 'extra', actual: row });
  return changes.sort((a, b) => compareBigint(firstRow(a).start, firstRow(b).start));
}

/** One line per change, with addresses and sizes in human units. */
export function formatRowChanges(changes: RowChange[]): string[] {
  return changes.map((c) => {
    switch (c.change) {
      case 'missing':
        return `  - missing        ${describe(c.expected)}`;
      case 'extra':
        return `  + extra          ${describe(c.actual)}`;
      case 'changed type':
        return `  ~ changed type   ${range(c.expected)}: expected ${c.expected.kind}, got ${c.actual.kind}`;
      case 'changed bounds':
        return `  ~ changed bounds expected ${describe(c.expected)}, got ${describe(c.actual)}`;
    }
  });
}

/** `[0x…-0x…] kind (size)` for one row. */
export function describe(row: Row): string {
  return `${range(row)} ${row.kind} (${humanSize(row.end - row.start + 1n)})`;
}

function range(row: Row): string {
  return `[${hex(row.start, 16)}-${hex(row.end, 16)}]`;
}

function sameBounds(a: Row, b: Row): boolean {
  return a.start === b.start && a.end === b.end;
}

function overlaps(a: Row, b: Row): boolean {
  return a.start <= b.end && b.start <= a.end;
}

function firstRow(c: RowChange): Row {
  return 'expected' in c ? c.expected : c.actual;
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
