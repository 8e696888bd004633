import type { CaseNode } from '../case/types.ts';
import { parseSize } from '../util/size.ts';
import { parseAddress } from './load.ts';
import type { MachineInfo } from './types.ts';

const FOUR_GIB = 1n << 32n;

/** An inclusive address range. */
export interface Range {
  start: bigint;
  end: bigint;
}

/**
 * Where each node's RAM lies on a machine: nodes take guest RAM in node
 * order, low memory first, then from 4 GiB on (QEMU's SRAT builder does the
 * same). Only what is needed to move a case's rows from one machine to the
 * other; the full layout model (holes, fixed ranges) is not this.
 */
export function nodeSegments(nodes: readonly CaseNode[], memory: string, machine: MachineInfo): Range[][] {
  const total = parseSize(memory);
  const below = total >= parseAddress(machine.splitAt) ? parseAddress(machine.lowMemory) : total;
  let offset = 0n;
  return nodes.map((node) => {
    const size = parseSize(node.size);
    const segments = toAddresses(offset, offset + size, below);
    offset += size;
    return segments;
  });
}

/** RAM offsets [from, to) as guest addresses: below `below` as is, the rest moved up to 4 GiB. */
function toAddresses(from: bigint, to: bigint, below: bigint): Range[] {
  const out: Range[] = [];
  if (from < below) out.push({ start: from, end: (to < below ? to : below) - 1n });
  if (to > below) {
    const start = (from > below ? from : below) - below + FOUR_GIB;
    out.push({ start, end: start + (to - (from > below ? from : below)) - 1n });
  }
  return out;
}

/** Address maps that move a case's row bounds from one machine's layout to another's. */
export interface Relocation {
  starts: Map<bigint, bigint>;
  ends: Map<bigint, bigint>;
}

/**
 * Pairs each node's segments on both machines. Undefined when a node has a
 * different number of segments on the two (it straddles 4 GiB on one only):
 * then the rows cannot be moved by bounds alone.
 */
export function relocation(from: Range[][], to: Range[][]): Relocation | undefined {
  const starts = new Map<bigint, bigint>();
  const ends = new Map<bigint, bigint>();
  for (const [i, segments] of from.entries()) {
    const target = to[i];
    if (!target || target.length !== segments.length) return undefined;
    segments.forEach((s, j) => {
      const t = target[j] as Range;
      starts.set(s.start, t.start);
      ends.set(s.end, t.end);
    });
  }
  return { starts, ends };
}

/** A range moved by a relocation: bounds that are node boundaries move, others stay. */
export function moveRange(r: Range, reloc: Relocation): Range {
  return { start: reloc.starts.get(r.start) ?? r.start, end: reloc.ends.get(r.end) ?? r.end };
}

// `[mem 0x…-0x…]` in BIOS-e820 and SRAT lines, and bare `0x…-0x…` ranges.
const RANGE = /(0x[0-9a-f]+)-(0x[0-9a-f]+)/i;

/** Rewrites the first address range in a line, keeping how wide each number was printed. */
export function moveRangeText(text: string, reloc: Relocation): string {
  return text.replace(RANGE, (_all, a: string, b: string) => {
    const moved = moveRange({ start: BigInt(a), end: BigInt(b) }, reloc);
    return `${reprint(moved.start, a)}-${reprint(moved.end, b)}`;
  });
}

/** The first address range in a line. */
export function rangeInText(text: string): Range | undefined {
  const m = RANGE.exec(text);
  return m?.[1] && m[2] ? { start: BigInt(m[1]), end: BigInt(m[2]) } : undefined;
}

/** Same zero-padding as the original spelling: the kernel prints E820 bounds with 16 digits, SRAT's without padding. */
function reprint(value: bigint, like: string): string {
  const digits = like.length - 2;
  const padded = like.length > 3 && like[2] === '0';
  return `0x${value.toString(16).padStart(padded ? digits : 1, '0')}`;
}

/** `0x…-0x…` as the case files write guest ranges. */
export function rangeText(r: Range): string {
  return `0x${r.start.toString(16)}-0x${r.end.toString(16)}`;
}
