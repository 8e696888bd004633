import { byStart } from '../core/vocabulary.ts';

/**
 * A memory map as a sorted list of non-overlapping typed ranges, edited the
 * way firmware edits its E820 list: a later entry overwrites whatever it
 * overlaps. Ends are exclusive here; rows for people are inclusive.
 */
export interface Span {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  type: number;
}

/** `map` with [start, end) set to `type`, or emptied when `type` is null. */
export function paint(map: readonly Span[], start: bigint, end: bigint, type: number | null): Span[] {
  if (end <= start) return [...map];
  const out: Span[] = [];
  for (const span of map) {
    if (span.end <= start || span.start >= end) {
      out.push(span);
      continue;
    }
    if (span.start < start) out.push({ ...span, end: start });
    if (span.end > end) out.push({ ...span, start: end });
  }
  if (type !== null) out.push({ start, end, type });
  return out.sort(byStart);
}

/** Touching ranges of one type become one, as Linux's e820__update_table() does before printing. */
export function mergeAdjacent(map: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const span of map) {
    const last = out[out.length - 1];
    if (last && last.end === span.start && last.type === span.type) last.end = span.end;
    else out.push({ ...span });
  }
  return out;
}
