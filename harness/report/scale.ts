/**
 * A broken vertical scale for memory maps. Every range start and end+1 is a
 * boundary; between two boundaries lies a segment. A segment some range covers
 * gets a minimum height plus a little per doubling of its size, so a 4 KiB ACPI
 * range stays legible next to an 8 GiB node; a segment nothing covers (the
 * hole up to the 64-bit window, ~1 TiB) gets one fixed, small height and is
 * drawn as a break. Addresses stay bigint: only segment sizes become numbers,
 * as log2 (at most 64), and only positions in pixels are JS numbers.
 */
import { compareBigint } from '../core/vocabulary.ts';

export interface ScaleOptions {
  /** Height of the smallest covered segment (4 KiB or less). */
  minHeight: number;
  /** Extra height per doubling of a covered segment's size above 4 KiB. */
  perDoubling: number;
  /** Height of a segment no range covers. */
  gapHeight: number;
}

export interface Segment {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  covered: boolean;
  top: number;
  bottom: number;
}

export interface BrokenScale {
  segments: Segment[];
  /** Pixel offset of each boundary address (starts and end+1 of every range). */
  offsets: ReadonlyMap<bigint, number>;
  height: number;
}

const DEFAULTS: ScaleOptions = { minHeight: 20, perDoubling: 3.2, gapHeight: 26 };
const LOG2_PAGE = 12;

/** Lays out the given inclusive ranges top (low addresses) to bottom (high addresses). */
export function brokenScale(ranges: readonly { start: bigint; end: bigint }[], options: Partial<ScaleOptions> = {}): BrokenScale {
  const opts = { ...DEFAULTS, ...options };
  const bounds = boundaries(ranges);
  const segments: Segment[] = [];
  const offsets = new Map<bigint, number>();
  let y = 0;
  bounds.forEach((start, i) => {
    offsets.set(start, y);
    const end = bounds[i + 1];
    if (end === undefined) return;
    const covered = ranges.some((r) => r.start <= start && start <= r.end);
    const height = covered ? opts.minHeight + opts.perDoubling * Math.max(0, log2(end - start) - LOG2_PAGE) : opts.gapHeight;
    segments.push({ start, end, covered, top: y, bottom: y + height });
    y += height;
  });
  return { segments, offsets, height: y };
}

function boundaries(ranges: readonly { start: bigint; end: bigint }[]): bigint[] {
  const all = new Set<bigint>();
  for (const r of ranges) {
    all.add(r.start);
    all.add(r.end + 1n);
  }
  return [...all].sort(compareBigint);
}

/**
 * log2 of a positive size, for scaling only: the bit length plus the fraction
 * from the top 52 bits, so no size is ever turned into an imprecise number whole.
 */
export function log2(size: bigint): number {
  if (size <= 0n) return 0;
  const bits = size.toString(2).length;
  const shift = Math.max(0, bits - 52);
  return Math.log2(Number(size >> BigInt(shift))) + shift;
}
