/**
 * An address range (inclusive bounds) as text, in the two forms the harness
 * writes: short, as case files state soft-reserved ranges; and zero-padded, as
 * the kernel prints BIOS-e820 and SRAT rows.
 */
import { hex } from '../util/size.ts';
import type { AddressRange } from './vocabulary.ts';

/** `0x280000000-0x47fffffff`: both bounds without zero padding. */
export function rangeText(r: AddressRange): string {
  return `${hex(r.start)}-${hex(r.end)}`;
}

/** `0x0000000280000000-0x000000047fffffff`: both bounds zero-padded to `digits` hex digits (16 as BIOS-e820 prints them, 8 as SRAT does). */
export function paddedRangeText(r: AddressRange, digits = 16): string {
  return `${hex(r.start, digits)}-${hex(r.end, digits)}`;
}
