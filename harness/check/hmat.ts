/**
 * Checks of a case with `hmat`: QEMU's raw HMAT as the guest read it (aspect
 * `acpi`) and each node's access0 attributes, the HMAT as Linux describes it
 * (aspect `guest`), both against the model (harness/model/hmat.ts), which
 * derives them from the case's own hmat-lb entries.
 */
import type { Finding } from '../core/vocabulary.ts';
import type { ExpectedHmat, ExpectedNodeAccess } from '../model/hmat.ts';
import type { NodeAccess } from '../parse/node-access.ts';
import type { GuestSections } from '../parse/guest-sections.ts';
import type { HmatTable } from '../parse/tables/hmat.ts';
import { without } from '../util/multiset.ts';

export const HMAT_CHECK = 'HMAT proximity attributes and latency/bandwidth structures';
const ACCESS_CHECK = /^node \d+ access0 \(HMAT as Linux shows it\)/;

/** Whether a finding's check is one of these (derived from the case's `hmat`, so reports point there). */
export function isHmatCheck(check: string): boolean {
  return check === HMAT_CHECK || ACCESS_CHECK.test(check);
}

/** The HMAT's structures as lines, expected against read (as multisets: order is not the claim). */
export function compareHmat(expected: ExpectedHmat, table: HmatTable): Pick<Finding, 'ok' | 'detail'> {
  const wanted = hmatLines(expected);
  const actual = hmatLines({
    proximity: table.proximity,
    localities: table.localities.filter((l) => l.hierarchy === 0).map((l) => ({ ...l, dataTypeName: l.dataTypeName ?? `data type ${l.dataType}` })),
  });
  const others = [
    ...table.localities.filter((l) => l.hierarchy !== 0).map((l) => `locality of memory side cache level ${l.hierarchy}, data type ${l.dataType}`),
    ...table.caches.map((c) => `memory side cache of PXM ${c.memoryPxm}, level ${c.level}`),
    ...table.unknown.map((u) => `structure type ${u.type} (${u.length} bytes)`),
  ];
  const missing = without(wanted, actual);
  const extra = [...without(actual, wanted), ...others];
  if (missing.length === 0 && extra.length === 0) return { ok: true, detail: [] };
  return { ok: false, detail: [...missing.map((t) => `  - missing        ${t}`), ...extra.map((t) => `  + extra          ${t}`)] };
}

interface LinesInput {
  proximity: readonly { memoryPxm: number; initiatorValid: boolean; initiatorPxm: number }[];
  localities: readonly { dataTypeName: string; entryBaseUnit: bigint; initiators: readonly number[]; targets: readonly number[]; entries: readonly (readonly number[])[] }[];
}

/** `memory PXM 1: initiator PXM 0` and `access-latency: base unit 10000 ps; PXM 0 -> PXM 1: 15` (the latter one line per entry, zeros included). */
function hmatLines(h: LinesInput): string[] {
  const lines = h.proximity.map((p) => `memory PXM ${p.memoryPxm}: ${p.initiatorValid ? `initiator PXM ${p.initiatorPxm}` : 'no initiator'}`);
  for (const l of h.localities) {
    const unit = l.dataTypeName.endsWith('latency') ? 'ps' : 'MB/s';
    lines.push(`${l.dataTypeName}: base unit ${l.entryBaseUnit} ${unit}, initiators [${l.initiators.join(', ')}], targets [${l.targets.join(', ')}]`);
    l.initiators.forEach((i, r) => l.targets.forEach((t, c) => lines.push(`${l.dataTypeName}: PXM ${i} -> PXM ${t}: ${l.entries[r]?.[c] ?? '-'} x ${l.entryBaseUnit} ${unit}`)));
  }
  return lines;
}

/** One finding per node: its access0 as the guest showed it, against the model's. */
export function checkNodeAccess(expected: readonly ExpectedNodeAccess[], guest: GuestSections): Finding[] {
  return expected.map((want) => {
    const check = `node ${want.node} access0 (HMAT as Linux shows it): ${describe(want)}`;
    if (guest.nodeAccess === undefined) return fail(check, ['  the guest program printed no node-access section (see the serial log)']);
    const got = guest.nodeAccess.find((n) => n.node === want.node);
    const seen = got === undefined ? 'no such node in /sys/devices/system/node' : describe(got);
    if (want.state === 'absent' ? got === undefined || got.state === 'absent' : seen === describe(want)) return { aspect: 'guest', check, ok: true, detail: [] };
    return fail(check, [`  expected: ${describe(want)}`, `  actual:   ${seen}`]);
  });
}

function describe(a: ExpectedNodeAccess | NodeAccess): string {
  if (a.state === 'absent') return 'absent' + ('why' in a ? ` (${a.why})` : '');
  const v = (x: number | undefined) => (x === undefined ? '-' : String(x));
  return `initiators ${a.initiators.length ? a.initiators.map((n) => `node${n}`).join(',') : '(none)'}, read latency ${v(a.readLatency)} ns, write latency ${v(a.writeLatency)} ns, read bandwidth ${v(a.readBandwidth)} MB/s, write bandwidth ${v(a.writeBandwidth)} MB/s`;
}

function fail(check: string, detail: string[]): Finding {
  return { aspect: 'guest', check, ok: false, detail };
}
