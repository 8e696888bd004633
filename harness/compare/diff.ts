import { e820Kind, type AddressRange, type ObservedFacts } from '../core/vocabulary.ts';
import { rangeText } from '../core/range-text.ts';
import { humanSize } from '../util/size.ts';
import type { CaseRecord } from './records.ts';

/**
 * What one side's runs have that the other's do not, per case and
 * configuration and per aspect, as rows. A difference is information, not a
 * failure: whether each side did what its own revision promises is its
 * verdict's business.
 */
export type Aspect = 'verdict' | 'coverage' | 'e820' | 'srat' | 'refusal' | 'guest' | 'qmp';

export const ASPECTS: readonly Aspect[] = ['verdict', 'coverage', 'e820', 'srat', 'refusal', 'guest', 'qmp'];

export interface Difference {
  case: string;
  /** `machine, firmware, kernel` of the runs compared. */
  configuration: string;
  aspect: Aspect;
  /** Which side has the thing: `a` only, `b` only, or `both` with different values. */
  side: 'a' | 'b' | 'both';
  /** The thing itself, e.g. `SRAT entry pxm 1 [0x280000000-0x47fffffff]`. */
  what: string;
  /** For `both`: A's value and B's. */
  values?: { a: string; b: string };
}

/** The names the two sides go by in rows ("v5", "v6.mbx", …). */
export interface SideNames {
  a: string;
  b: string;
}

/**
 * Node MemTotal is what the guest kernel has left after its own allocations,
 * which move by a few MiB with the node layout; a difference below this is
 * bookkeeping, not behaviour.
 */
export const MEMTOTAL_TOLERANCE = 64n << 20n;

/** Every difference between two sides' records, in case order of A (then cases only B ran). */
export function diffRecords(a: readonly CaseRecord[], b: readonly CaseRecord[]): Difference[] {
  const bByKey = new Map(b.map((r) => [keyOf(r), r]));
  const aKeys = new Set(a.map(keyOf));
  const out: Difference[] = [];
  for (const ra of a) {
    const rb = bByKey.get(keyOf(ra));
    if (!rb) out.push(coverage(ra, 'a'));
    else out.push(...diffPair(ra, rb));
  }
  for (const rb of b) if (!aKeys.has(keyOf(rb))) out.push(coverage(rb, 'b'));
  return out;
}

/** The differences of one case run on the same configuration by both sides. */
export function diffPair(a: CaseRecord, b: CaseRecord): Difference[] {
  const at = { case: a.name, configuration: configurationOf(a) };
  const out: Difference[] = [];
  if (a.status !== b.status && a.judged !== false && b.judged !== false) out.push({ ...at, aspect: 'verdict', side: 'both', what: 'verdict', values: { a: verdictText(a), b: verdictText(b) } });
  // Rows are compared only when both guests got as far as the firmware tables: an error or
  // unsupported run has no rows, and listing every row of the other side as missing says nothing.
  if (a.e820.length > 0 && b.e820.length > 0) out.push(...rowDiff(at, 'e820', a.e820.map(e820Text), b.e820.map(e820Text)));
  if (booted(a) && booted(b)) out.push(...rowDiff(at, 'srat', a.srat.map(sratText), b.srat.map(sratText)));
  out.push(...refusalDiff(at, a, b));
  if (a.observed?.guest && b.observed?.guest) out.push(...guestDiff(at, a.observed.guest, b.observed.guest));
  if (a.observed?.qmp && b.observed?.qmp) out.push(...qmpDiff(at, a.observed.qmp, b.observed.qmp));
  return out;
}

type At = Pick<Difference, 'case' | 'configuration'>;

function keyOf(r: CaseRecord): string {
  return `${r.name}\u0000${configurationOf(r)}`;
}

export function configurationOf(r: Pick<CaseRecord, 'machine' | 'firmware' | 'kernel'>): string {
  return `${r.machine}, ${r.firmware}, ${r.kernel}`;
}

function coverage(r: CaseRecord, side: 'a' | 'b'): Difference {
  return { case: r.name, configuration: configurationOf(r), aspect: 'coverage', side, what: `a run (${r.status})` };
}

function verdictText(r: CaseRecord): string {
  return r.status;
}

/** A run that reached the guest's firmware tables (SRAT may be legitimately empty then: no NUMA). */
function booted(r: CaseRecord): boolean {
  return r.e820.length > 0;
}

/** Rows present on one side only; the texts are the identity (bounds and kind). */
function rowDiff(at: At, aspect: Aspect, a: string[], b: string[]): Difference[] {
  const inB = new Set(b);
  const inA = new Set(a);
  return [
    ...a.filter((row) => !inB.has(row)).map((what) => ({ ...at, aspect, side: 'a' as const, what })),
    ...b.filter((row) => !inA.has(row)).map((what) => ({ ...at, aspect, side: 'b' as const, what })),
  ];
}

/** `[0x…-0x…]`: a range as the comparison lists it. */
function span(r: AddressRange): string {
  return `[${rangeText(r)}]`;
}

function e820Text(row: { start: bigint; end: bigint; type: number }): string {
  return `E820 row ${span(row)} ${e820Kind(row.type)}`;
}

function sratText(row: { node: number; pxm: number; start: bigint; end: bigint; hotplug?: boolean }): string {
  return `SRAT entry pxm ${row.pxm} ${span(row)}${row.hotplug ? ' hotplug' : ''}`;
}

function refusalDiff(at: At, ra: CaseRecord, rb: CaseRecord): Difference[] {
  const [a, b] = [ra.observed?.refusal, rb.observed?.refusal];
  if (!a && !b) return [];
  if (a?.refused === b?.refused && a?.message === b?.message) return [];
  const values = { a: refusalText(ra), b: refusalText(rb) };
  if (a?.refused && !b?.refused) return [{ ...at, aspect: 'refusal', side: 'a', what: `refusal "${a.message ?? ''}"`, values }];
  if (b?.refused && !a?.refused) return [{ ...at, aspect: 'refusal', side: 'b', what: `refusal "${b.message ?? ''}"`, values }];
  return [{ ...at, aspect: 'refusal', side: 'both', what: 'refusal message', values }];
}

/** What QEMU did with a configuration, for a refusal row: refused (its words), started, or never asked. */
function refusalText(r: CaseRecord): string {
  const refusal = r.observed?.refusal;
  if (refusal) return refusal.refused ? `refused: ${refusal.message ?? '(no message)'}` : 'started (accepted the configuration)';
  // The verdict's reason (the probe's evidence) is in that side's report; the row stays short.
  if (r.status === 'unsupported') return 'not started: unsupported (this QEMU lacks the interface the case uses)';
  if (r.status === 'error') return `not started: error (${r.reason ?? 'the run broke'})`;
  return 'no refusal expected or observed';
}

type Guest = NonNullable<ObservedFacts['guest']>;

function guestDiff(at: At, a: Guest, b: Guest): Difference[] {
  const ranges = (where: string, rs: AddressRange[]) => rs.map((r) => `${where} Soft Reserved ${span(r)}`);
  const dax = (g: Guest) => g.dax.map((d) => `DAX device on node ${d.targetNode ?? '?'} (${d.size === undefined ? 'size unknown' : humanSize(d.size)})`);
  const online = (g: Guest) => g.nodeMemTotal.filter((n) => n.bytes > 0n).map((n) => `node ${n.node} has memory online`);
  const out = [
    ...rowDiff(at, 'guest', ranges('/proc/iomem', a.iomemSoftReserved), ranges('/proc/iomem', b.iomemSoftReserved)),
    ...rowDiff(at, 'guest', ranges('/sys/firmware/memmap', a.firmwareMemmapSoftReserved), ranges('/sys/firmware/memmap', b.firmwareMemmapSoftReserved)),
    ...rowDiff(at, 'guest', dax(a), dax(b)),
    ...rowDiff(at, 'guest', online(a), online(b)),
  ];
  for (const na of a.nodeMemTotal) {
    const nb = b.nodeMemTotal.find((n) => n.node === na.node);
    if (!nb || na.bytes === 0n || nb.bytes === 0n) continue;
    const gap = na.bytes > nb.bytes ? na.bytes - nb.bytes : nb.bytes - na.bytes;
    if (gap > MEMTOTAL_TOLERANCE) out.push({ ...at, aspect: 'guest', side: 'both', what: `node ${na.node} MemTotal`, values: { a: humanSize(na.bytes), b: humanSize(nb.bytes) } });
  }
  return out;
}

type Qmp = NonNullable<ObservedFacts['qmp']>;

function qmpDiff(at: At, a: Qmp, b: Qmp): Difference[] {
  const memdevs = (q: Qmp) => q.memdevs.map((m) => `memdev ${m.id} ${humanSize(m.size)}`);
  const nodes = (q: Qmp) => q.nodes.map((n) => `node ${n.node} ${humanSize(n.size)} cpus [${n.cpus.join(',')}]`);
  const devices = (q: Qmp) =>
    q.memoryDevices.map((d) => `memory device ${d.type}${d.id ? ` ${d.id}` : ''} node ${d.node ?? '?'} at ${d.addr === undefined ? '?' : `0x${d.addr.toString(16)}`} (${d.size === undefined ? '?' : humanSize(d.size)})`);
  const out = [...rowDiff(at, 'qmp', memdevs(a), memdevs(b)), ...rowDiff(at, 'qmp', nodes(a), nodes(b)), ...rowDiff(at, 'qmp', devices(a), devices(b))];
  if (a.pluggedMemory !== b.pluggedMemory) out.push({ ...at, aspect: 'qmp', side: 'both', what: 'plugged memory', values: { a: humanSize(a.pluggedMemory), b: humanSize(b.pluggedMemory) } });
  return out;
}

/**
 * One row of text per difference, with the side names:
 * `seed-reserved [q35, qboot, minimal-6.1]: SRAT entry pxm 1 [0x280000000-0x47fffffff] present in v5, absent in v6`.
 * Differences that are the same on several configurations of one case become one row naming them all.
 */
export function differenceLines(diffs: readonly Difference[], names: SideNames): string[] {
  const groups = new Map<string, { d: Difference; configurations: string[] }>();
  for (const d of diffs) {
    const key = `${d.case}\u0000${d.aspect}\u0000${d.side}\u0000${d.what}\u0000${d.values?.a ?? ''}\u0000${d.values?.b ?? ''}`;
    const group = groups.get(key);
    if (group) group.configurations.push(d.configuration);
    else groups.set(key, { d, configurations: [d.configuration] });
  }
  return [...groups.values()].map(({ d, configurations }) => `${d.case} [${mergeConfigurations(configurations)}]: ${sentence(d, names)}`);
}

/** `q35, qboot, minimal-6.1` ×3 on the same machine and kernel → `q35, qboot|ovmf-sid|seabios-bookworm, minimal-6.1`. */
function mergeConfigurations(configurations: string[]): string {
  if (configurations.length === 1) return configurations[0] ?? '';
  const parts = configurations.map((c) => c.split(', '));
  const [machine, , kernel] = parts[0] ?? [];
  if (parts.every((p) => p.length === 3 && p[0] === machine && p[2] === kernel)) return `${machine}, ${parts.map((p) => p[1]).join('|')}, ${kernel}`;
  return configurations.join('; ');
}

function sentence(d: Difference, names: SideNames): string {
  const own = d.side === 'a' ? names.a : names.b;
  const other = d.side === 'a' ? names.b : names.a;
  if (d.aspect === 'coverage') return `${d.what} in ${own}, none in ${other} (the case is not about ${other}'s revision)`;
  if (d.side === 'both') return `${d.what}: ${d.values?.a ?? '?'} in ${names.a}, ${d.values?.b ?? '?'} in ${names.b}`;
  if (d.aspect === 'refusal') return `${d.what} in ${own}; ${other}: ${d.side === 'a' ? d.values?.b : d.values?.a}`;
  return `${d.what} present in ${own}, absent in ${other}`;
}
