import type { E820Expectation, Expectations, GuestExpectation, QmpExpectation } from '../case/types.ts';
import type { E820Row, Finding, RowChange, SratRow } from '../core/vocabulary.ts';
import { flattenIomem } from '../parse/iomem.ts';
import { rowsInScope } from '../core/e820-scope.ts';
import { hex, humanSize, parseSize } from '../util/size.ts';
import type { Observations } from './observations.ts';
import { SOFT_RESERVED_NAME } from '../core/memmap-types.ts';
import { rangeText } from '../core/range-text.ts';
import { diffRows, formatRowChanges } from '../core/row-changes.ts';

export type { Finding } from '../core/vocabulary.ts';

/** Checks every expectation the case states against what the run observed. */
export function checkExpectations(expect: Expectations, seen: Observations): Finding[] {
  return [
    ...(expect.e820 ? [checkE820(expect.e820, seen)] : []),
    ...(expect.srat ? [checkSrat(expect.srat, seen)] : []),
    ...(expect.qmp ? checkQmp(expect.qmp, seen) : []),
    ...(expect.guest ? checkGuest(expect.guest, seen) : []),
  ];
}

/** The guest lines a case's expectations need: whether the full guest program must run, or the firmware tables suffice. */
export function needsGuestProgram(expect: Expectations): boolean {
  return expect.guest !== undefined || expect.use !== undefined;
}

function checkE820(expect: E820Expectation, seen: Observations): Finding {
  const toRow = ({ start, end, type }: E820Row): E820Row => ({ start, end, type });
  const wanted = rowsInScope(expect.rows, expect.scope);
  const actual = rowsInScope(seen.log.e820.map(toRow), expect.scope);
  const check = `BIOS-e820 rows${expect.scope === 'above-4g' ? ' at or above 4 GiB' : ''}`;
  if (actual.length === 0) return fail('e820', check, ['the guest printed no BIOS-e820 lines']);
  return rowFinding('e820', check, diffRows(wanted, actual));
}

function checkSrat(wanted: readonly SratRow[], seen: Observations): Finding {
  const toRow = ({ node, pxm, start, end, hotplug }: SratRow): SratRow => ({ node, pxm, start, end, ...(hotplug ? { hotplug: true } : {}) });
  return rowFinding('srat', 'SRAT memory affinity rows', diffRows(wanted, seen.log.srat.map(toRow)));
}

function checkQmp(expect: QmpExpectation, seen: Observations): Finding[] {
  const qmp = seen.qmp;
  if (!qmp) return [fail('qmp', 'QMP facts', ['QMP was not queried in this run'])];
  const findings: Finding[] = [];
  if (expect.memdevs) {
    const wanted = expect.memdevs.map((m) => `${m.id} ${humanSize(parseSize(m.size))}`).sort();
    const actual = qmp.memdevs.map((m) => `${m.id} ${humanSize(m.size)}`).sort();
    findings.push(compareLists('qmp', 'query-memdev backends and sizes', wanted, actual));
  }
  if (expect.nodes && qmp.nodesUnknown) findings.push(fail('qmp', 'NUMA node sizes and CPUs', [`  ${qmp.nodesUnknown}`]));
  else if (expect.nodes) {
    const wanted = expect.nodes.map((n) => `node ${n.node}: ${humanSize(parseSize(n.size))}, cpus ${n.cpus.join(',')}`).sort();
    const actual = qmp.nodes.map((n) => `node ${n.node}: ${humanSize(n.size)}, cpus ${n.cpus.join(',')}`).sort();
    findings.push(compareLists('qmp', 'NUMA node sizes and CPUs', wanted, actual));
  }
  if (expect.memoryDevices) {
    const wanted = expect.memoryDevices.map((d) => deviceText(d.type, d.node, BigInt(d.addr), parseSize(d.size))).sort();
    const actual = qmp.memoryDevices.map((d) => deviceText(d.type, d.node, d.addr, d.size)).sort();
    findings.push(compareLists('qmp', 'query-memory-devices kinds, nodes, addresses and sizes', wanted, actual));
  }
  if (expect.pluggedMemory !== undefined) {
    const wanted = humanSize(parseSize(expect.pluggedMemory));
    findings.push(compareLists('qmp', 'query-memory-size-summary plugged-memory', [wanted], [humanSize(qmp.pluggedMemory)]));
  }
  return findings;
}

function deviceText(type: string, node: number | undefined, addr: bigint | undefined, size: bigint | undefined): string {
  return `${type} on node ${node ?? '-'} at ${addr === undefined ? '-' : hex(addr)}, ${size === undefined ? '-' : humanSize(size)}`;
}

function checkGuest(expect: GuestExpectation, seen: Observations): Finding[] {
  const guest = seen.log.guest;
  if (!guest.done) return [fail('guest', 'guest probe', ['the guest never printed the probe-done marker: see the serial log'])];
  const findings: Finding[] = [];
  if (expect.softReserved) {
    const wanted = [...expect.softReserved].sort();
    const iomem = flattenIomem(guest.iomem ?? []).map(({ node }) => node).filter((n) => n.name === SOFT_RESERVED_NAME);
    const memmap = (guest.firmwareMemmap ?? []).filter((r) => r.type === SOFT_RESERVED_NAME);
    findings.push(compareLists('guest', '/proc/iomem Soft Reserved ranges', wanted, iomem.map(rangeText).sort()));
    findings.push(compareLists('guest', '/sys/firmware/memmap Soft Reserved ranges', wanted, memmap.map(rangeText).sort()));
  }
  if (expect.dax) {
    const wanted = expect.dax.map((d) => `target node ${d.targetNode}, ${humanSize(parseSize(d.size))}`).sort();
    const actual = (guest.dax ?? []).map((d) => `target node ${d.targetNode ?? '-'}, ${d.size === undefined ? '-' : humanSize(d.size)}`).sort();
    findings.push(compareLists('guest', 'DAX devices', wanted, actual));
  }
  for (const bound of expect.nodeMemTotal ?? []) findings.push(checkMemTotal(bound, seen));
  return findings;
}

function checkMemTotal(bound: { node: number; min?: string; max?: string }, seen: Observations): Finding {
  const info = seen.log.guest.nodeMeminfo?.[bound.node];
  const total = info?.bytes.MemTotal ?? 0n;
  const min = bound.min === undefined ? undefined : parseSize(bound.min);
  const max = bound.max === undefined ? undefined : parseSize(bound.max);
  const ok = (min === undefined || total >= min) && (max === undefined || total <= max);
  const limits = [min === undefined ? undefined : `>= ${humanSize(min)}`, max === undefined ? undefined : `<= ${humanSize(max)}`].filter(Boolean).join(' and ');
  const shown = info ? humanSize(total) : '0 (node not in sysfs)';
  return ok ? pass('guest', `node ${bound.node} MemTotal ${limits}`) : fail('guest', `node ${bound.node} MemTotal ${limits}`, [`  expected ${limits}, got ${shown}`]);
}

function rowFinding(aspect: Finding['aspect'], check: string, changes: RowChange[]): Finding {
  return changes.length === 0 ? pass(aspect, check) : { ...fail(aspect, check, formatRowChanges(changes)), rows: changes };
}

function compareLists(aspect: Finding['aspect'], check: string, wanted: string[], actual: string[]): Finding {
  const missing = wanted.filter((w) => !actual.includes(w));
  const extra = actual.filter((a) => !wanted.includes(a));
  if (missing.length === 0 && extra.length === 0 && wanted.length === actual.length) return pass(aspect, check);
  return fail(aspect, check, [
    `  expected: ${wanted.length ? wanted.join('; ') : '(none)'}`,
    `  actual:   ${actual.length ? actual.join('; ') : '(none)'}`,
  ]);
}

function pass(aspect: Finding['aspect'], check: string): Finding {
  return { aspect, check, ok: true, detail: [] };
}

function fail(aspect: Finding['aspect'], check: string, detail: string[]): Finding {
  return { aspect, check, ok: false, detail };
}
