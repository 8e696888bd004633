import type { Finding } from '../core/vocabulary.ts';
import { flattenIomem } from '../parse/iomem.ts';
import type { SerialLog } from '../parse/log.ts';
import type { SoftReservedCheck } from '../model/case-expectation.ts';
import { SOFT_RESERVED_NAME } from '../core/memmap-types.ts';
import { rangeText } from '../core/range-text.ts';
import { sameItems } from '../util/multiset.ts';

/**
 * Soft Reserved ranges in one place only. The case checker compares /proc/iomem
 * and /sys/firmware/memmap against one list; Linux 7.x lists the range in the
 * second only, so the expectation engine then asks for each place to be
 * checked against its own list.
 */
export function softReservedFindings(checks: readonly SoftReservedCheck[], log: SerialLog): Finding[] {
  if (checks.length === 0) return [];
  if (!log.guest.done) return [{ aspect: 'guest', check: 'guest probe', ok: false, detail: ['the guest never printed the probe-done marker: see the serial log'] }];
  return checks.map((c) => compare(c, actualRanges(c.place, log)));
}

function actualRanges(place: SoftReservedCheck['place'], log: SerialLog): string[] {
  if (place === 'iomem') return flattenIomem(log.guest.iomem ?? []).filter(({ node }) => node.name === SOFT_RESERVED_NAME).map(({ node }) => rangeText(node));
  return (log.guest.firmwareMemmap ?? []).filter((r) => r.type === SOFT_RESERVED_NAME).map((r) => rangeText(r));
}

function compare(c: SoftReservedCheck, actual: string[]): Finding {
  const where = c.place === 'iomem' ? '/proc/iomem' : '/sys/firmware/memmap';
  const wanted = [...c.ranges].sort();
  const got = [...actual].sort();
  const ok = sameItems(wanted, got);
  const check = `${where} Soft Reserved ranges`;
  if (ok) return { aspect: 'guest', check, ok, detail: [] };
  const source = c.source === undefined ? [] : [`  the expectation rests on ${c.source}`];
  return { aspect: 'guest', check, ok, detail: [`  expected: ${wanted.length ? wanted.join('; ') : '(none)'}`, `  actual:   ${got.length ? got.join('; ') : '(none)'}`, ...source] };
}
