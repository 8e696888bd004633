import { FOUR_GIB } from '../util/constants.ts';
import type { E820Row } from './vocabulary.ts';

/** Which BIOS-e820 rows an expectation compares: the whole table, or the part at and above 4 GiB. */
export type E820Scope = 'all' | 'above-4g';

/**
 * The rows within `scope`. For `above-4g` a row that starts below 4 GiB and
 * ends above it counts with its part from 4 GiB: the kernel merges adjacent
 * rows of one type, so OVMF's own reserved flash range [0xffc00000, 4 GiB)
 * and a reserved node at 4 GiB print as one row (model-property seed
 * 1246682718: q35, 2 GiB normal + 768 MiB reserved on ovmf-sid printed
 * `0xffc00000-0x12fffffff reserved`).
 */
export function rowsInScope<R extends E820Row>(rows: readonly R[], scope: E820Scope): R[] {
  if (scope === 'all') return [...rows];
  return rows.filter((r) => r.end >= FOUR_GIB).map((r) => (r.start >= FOUR_GIB ? r : { ...r, start: FOUR_GIB }));
}
