import { readFile } from 'node:fs/promises';
import type { ObservedFacts, PrintedE820Row, SratRow, Status, Verdict } from '../core/vocabulary.ts';
import { verdictsToJson } from '../report/json.ts';
import { HarnessError } from '../util/errors.ts';

/**
 * One case run as a report.json row holds it, read back into typed rows: the
 * material `compare` diffs. Compare reads report rows, not live verdicts, so
 * that a diff of two saved reports and a diff of two fresh runs are one code
 * path, and unit tests run on reports of real runs.
 */
export interface CaseRecord {
  name: string;
  status: Status;
  reason?: string;
  machine: string;
  firmware: string;
  kernel: string;
  /** The revision profile the run's expectations were derived for. */
  profile?: string;
  e820: PrintedE820Row[];
  srat: SratRow[];
  observed?: ObservedFacts;
  /** false for a run made only to observe (the case is about other revisions): it has no verdict to compare. */
  judged?: false;
}

/** A report file (or any JSON) that is not a report.json of this harness. */
export class ReportFileError extends HarnessError {}

const STATUSES: readonly Status[] = ['pass', 'fail', 'error', 'unsupported'];

/** The records of verdicts, through their report.json form (exactly what a saved report holds). */
export function recordsOfVerdicts(verdicts: Verdict[]): CaseRecord[] {
  return recordsFromReport(JSON.parse(JSON.stringify(verdictsToJson(verdicts))), 'this run');
}

/** Reads and checks a report.json file. Throws ReportFileError naming the file and the field. */
export async function readReportFile(path: string): Promise<CaseRecord[]> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new ReportFileError(`cannot read report ${path}`, 'give the report.json a run wrote');
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ReportFileError(`${path} is not JSON`, 'give the report.json a run wrote');
  }
  return recordsFromReport(json, path);
}

/**
 * The case rows of a parsed report.json. A report is untrusted input: every
 * field used is checked, addresses must be `0x…` numbers, and nothing in it is
 * followed (paths stay text).
 */
export function recordsFromReport(json: unknown, origin: string): CaseRecord[] {
  const cases = object(json, origin).cases;
  if (!Array.isArray(cases)) throw new ReportFileError(`${origin}: no 'cases' list`, 'give the report.json a run wrote');
  return cases.map((row, i) => recordOf(row, `${origin}: cases[${i}]`));
}

function recordOf(row: unknown, where: string): CaseRecord {
  const o = object(row, where);
  const status = text(o.status, `${where}.status`);
  if (!STATUSES.includes(status as Status)) throw new ReportFileError(`${where}.status: '${status}' is not a verdict`, `one of ${STATUSES.join(', ')}`);
  const run = o.run === undefined ? {} : object(o.run, `${where}.run`);
  const e820 = list(o.e820, `${where}.e820`).map((r, i) => {
    const e = object(r, `${where}.e820[${i}]`);
    return { start: address(e.start, `${where}.e820[${i}].start`), end: address(e.end, `${where}.e820[${i}].end`), type: count(e.type, `${where}.e820[${i}].type`), label: text(e.label, `${where}.e820[${i}].label`) };
  });
  const srat = list(o.srat, `${where}.srat`).map((r, i) => {
    const s = object(r, `${where}.srat[${i}]`);
    const at = `${where}.srat[${i}]`;
    return { node: count(s.node, `${at}.node`), pxm: count(s.pxm, `${at}.pxm`), start: address(s.start, `${at}.start`), end: address(s.end, `${at}.end`), ...(s.hotplug === true ? { hotplug: true } : {}) };
  });
  return {
    name: text(o.name, `${where}.name`),
    status: status as Status,
    ...(typeof o.reason === 'string' ? { reason: o.reason } : {}),
    machine: text(o.machine, `${where}.machine`),
    firmware: text(o.firmware, `${where}.firmware`),
    kernel: text(o.kernel, `${where}.kernel`),
    ...(typeof run.profile === 'string' ? { profile: run.profile } : {}),
    e820,
    srat,
    ...(o.observed === undefined ? {} : { observed: observedOf(o.observed, `${where}.observed`) }),
  };
}

function observedOf(value: unknown, where: string): ObservedFacts {
  const o = object(value, where);
  const out: ObservedFacts = {};
  if (o.refusal !== undefined) {
    const r = object(o.refusal, `${where}.refusal`);
    if (typeof r.refused !== 'boolean') throw new ReportFileError(`${where}.refusal.refused must be true or false`);
    out.refusal = { refused: r.refused, ...(typeof r.message === 'string' ? { message: r.message } : {}) };
  }
  if (o.qmp !== undefined) {
    const q = object(o.qmp, `${where}.qmp`);
    out.qmp = {
      memdevs: list(q.memdevs, `${where}.qmp.memdevs`).map((m, i) => {
        const d = object(m, `${where}.qmp.memdevs[${i}]`);
        return { id: text(d.id, `${where}.qmp.memdevs[${i}].id`), size: address(d.size, `${where}.qmp.memdevs[${i}].size`) };
      }),
      nodes: list(q.nodes, `${where}.qmp.nodes`).map((n, i) => {
        const d = object(n, `${where}.qmp.nodes[${i}]`);
        const at = `${where}.qmp.nodes[${i}]`;
        return { node: count(d.node, `${at}.node`), size: address(d.size, `${at}.size`), cpus: list(d.cpus, `${at}.cpus`).map((c, j) => count(c, `${at}.cpus[${j}]`)) };
      }),
      memoryDevices: list(q.memoryDevices, `${where}.qmp.memoryDevices`).map((m, i) => {
        const d = object(m, `${where}.qmp.memoryDevices[${i}]`);
        const at = `${where}.qmp.memoryDevices[${i}]`;
        return {
          type: text(d.type, `${at}.type`),
          ...(typeof d.id === 'string' ? { id: d.id } : {}),
          ...(d.node === undefined ? {} : { node: count(d.node, `${at}.node`) }),
          ...(d.addr === undefined ? {} : { addr: address(d.addr, `${at}.addr`) }),
          ...(d.size === undefined ? {} : { size: address(d.size, `${at}.size`) }),
        };
      }),
      pluggedMemory: address(q.pluggedMemory, `${where}.qmp.pluggedMemory`),
    };
  }
  if (o.guest !== undefined) {
    const g = object(o.guest, `${where}.guest`);
    const ranges = (v: unknown, at: string) => list(v, at).map((r, i) => {
      const x = object(r, `${at}[${i}]`);
      return { start: address(x.start, `${at}[${i}].start`), end: address(x.end, `${at}[${i}].end`) };
    });
    out.guest = {
      iomemSoftReserved: ranges(g.iomemSoftReserved, `${where}.guest.iomemSoftReserved`),
      firmwareMemmapSoftReserved: ranges(g.firmwareMemmapSoftReserved, `${where}.guest.firmwareMemmapSoftReserved`),
      dax: list(g.dax, `${where}.guest.dax`).map((d, i) => {
        const x = object(d, `${where}.guest.dax[${i}]`);
        return { ...(x.targetNode === undefined ? {} : { targetNode: count(x.targetNode, `${where}.guest.dax[${i}].targetNode`) }), ...(x.size === undefined ? {} : { size: address(x.size, `${where}.guest.dax[${i}].size`) }) };
      }),
      nodeMemTotal: list(g.nodeMemTotal, `${where}.guest.nodeMemTotal`).map((n, i) => {
        const x = object(n, `${where}.guest.nodeMemTotal[${i}]`);
        return { node: count(x.node, `${where}.guest.nodeMemTotal[${i}].node`), bytes: address(x.bytes, `${where}.guest.nodeMemTotal[${i}].bytes`) };
      }),
    };
  }
  return out;
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReportFileError(`${where} must be an object`, 'give the report.json a run wrote');
  return value as Record<string, unknown>;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new ReportFileError(`${where} must be a list`, 'give the report.json a run wrote');
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new ReportFileError(`${where} must be a string`, 'give the report.json a run wrote');
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ReportFileError(`${where} must be a non-negative integer`, 'give the report.json a run wrote');
  return value;
}

/** Addresses and sizes: report.json writes them as `0x` + hex digits (bigints). */
function address(value: unknown, where: string): bigint {
  if (typeof value !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(value)) throw new ReportFileError(`${where} must be an address like 0x0000000280000000`, 'give the report.json a run wrote');
  return BigInt(value);
}
