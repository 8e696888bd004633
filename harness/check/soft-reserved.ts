import type { Finding } from '../core/vocabulary.ts';
import { flattenIomem } from '../parse/iomem.ts';
import type { SerialLog } from '../parse/log.ts';
import type { SoftReservedCheck } from '../model/expectations.ts';

/**
 * Soft Reserved ranges in one place only. The case checker compares /proc/iomem
 * and /sys/firmware/memmap against one list; Linux 7.x lists the range in the
 * second only, so the expectation engine then asks for each place to be
 * checked against its own list.
 */
export function softReservedFindings(checks: readonly SoftReservedCheck[], log: SerialLog): Finding[] {
  if (checks.length === 0) return [];
  if (!log.probe.done) return [{ aspect: 'guest', check: 'guest probe', ok: false, detail: ['the guest never printed the probe-done marker: see the serial log'] }];
  return checks.map((c) => compare(c, actualRanges(c.place, log)));
}

function actualRanges(place: SoftReservedCheck['place'], log: SerialLog): string[] {
  const text = (r: { start: bigint; end: bigint }) => `0x${r.start.toString(16)}-0x${r.end.toString(16)}`;
  if (place === 'iomem') return flattenIomem(log.probe.iomem ?? []).filter(({ node }) => node.name === 'Soft Reserved').map(({ node }) => text(node));
  return (log.probe.firmwareMemmap ?? []).filter((r) => r.type === 'Soft Reserved').map(text);
}

function compare(c: SoftReservedCheck, actual: string[]): Finding {
  const where = c.place === 'iomem' ? '/proc/iomem' : '/sys/firmware/memmap';
  const wanted = [...c.ranges].sort();
  const got = [...actual].sort();
  const ok = wanted.length === got.length && wanted.every((w, i) => w === got[i]);
  const check = `${where} Soft Reserved ranges`;
  if (ok) return { aspect: 'guest', check, ok, detail: [] };
  const source = c.source === undefined ? [] : [`  the expectation rests on ${c.source}`];
  return { aspect: 'guest', check, ok, detail: [`  expected: ${wanted.length ? wanted.join('; ') : '(none)'}`, `  actual:   ${got.length ? got.join('; ') : '(none)'}`, ...source] };
}
