import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { readEntry } from '../cache/entry.ts';
import type { CaseSpec } from '../case/types.ts';
import type { PinnedPackage, QemuIdentity, Status, Verdict } from '../core/vocabulary.ts';
import { ensureFirmware, ensureKernel } from '../image/index.ts';
import { qemuVersionOf } from '../qemu-build/steps.ts';
import { runStem } from '../report/cell.ts';
import { REPORT_SCHEMA_VERSION } from '../report/json.ts';
import { cacheArea } from '../util/cache-dirs.ts';
import { HarnessError, UsageError } from '../util/errors.ts';
import { fromExactJson } from '../util/exact-json.ts';
import type { QemuUnderTest } from './run-case.ts';

/** One case run as report.json recorded it: what `reproduce` needs to make it again. */
export interface RecordedRun {
  /** `<case>@<cell>`, how the run is picked. */
  stem: string;
  name: string;
  status: Status;
  machine: string;
  firmware: string;
  kernel: string;
  inputs?: { kernel: PinnedPackage[]; firmware: PinnedPackage };
  qemu: QemuIdentity;
  transport: 'unix' | 'websocket';
  backend?: string;
  profile?: string;
  /** `aspect: check` of every check and whether it held. */
  checks: Map<string, boolean>;
  caseSpec: CaseSpec;
}

interface ReportCase {
  name?: unknown;
  status?: unknown;
  machine?: unknown;
  firmware?: unknown;
  kernel?: unknown;
  qemu?: unknown;
  inputs?: RecordedRun['inputs'];
  findings?: { aspect: string; check: string; ok: boolean }[];
  run?: { qemu?: QemuIdentity; transport?: string; backend?: string; profile?: string };
  caseData?: unknown;
}

/** The runs of a parsed report.json that carry what a reproduction needs; a report too old or not one is a usage error. */
export function recordedRuns(report: unknown, where: string): RecordedRun[] {
  const r = report as { schemaVersion?: unknown; cases?: unknown };
  if (typeof r !== 'object' || r === null || !Array.isArray(r.cases)) throw new UsageError(`${where} is not a memmap-harness report.json`, 'give the report.json a run, matrix or cell wrote');
  if (typeof r.schemaVersion !== 'number' || r.schemaVersion < REPORT_SCHEMA_VERSION) {
    throw new UsageError(`${where} has report schema ${String(r.schemaVersion ?? 1)}, which does not record how its runs were made`, `reports from schema ${REPORT_SCHEMA_VERSION} on can be reproduced; run the case again`);
  }
  return (r.cases as ReportCase[]).filter((c) => c.run?.qemu !== undefined && c.caseData !== undefined).map((c) => recordedRun(c, where));
}

function recordedRun(c: ReportCase, where: string): RecordedRun {
  const text = (value: unknown, field: string): string => {
    if (typeof value !== 'string') throw new UsageError(`${where}: a case lacks '${field}'`, 'the report is damaged; use the one the run wrote');
    return value;
  };
  const run = c.run as NonNullable<ReportCase['run']>;
  const caseSpec = fromExactJson(c.caseData) as CaseSpec;
  if (typeof caseSpec !== 'object' || caseSpec === null || typeof caseSpec.name !== 'string' || !Array.isArray(caseSpec.nodes)) throw new UsageError(`${where}: the recorded case data of '${String(c.name)}' is not a case`);
  const v = { name: text(c.name, 'name'), machine: text(c.machine, 'machine'), firmware: text(c.firmware, 'firmware'), kernel: text(c.kernel, 'kernel'), qemu: text(c.qemu, 'qemu') };
  return {
    ...v,
    stem: runStem(v),
    status: text(c.status, 'status') as Status,
    ...(c.inputs ? { inputs: c.inputs } : {}),
    qemu: run.qemu as QemuIdentity,
    transport: run.transport === 'websocket' ? 'websocket' : 'unix',
    ...(run.backend ? { backend: run.backend } : {}),
    ...(run.profile ? { profile: run.profile } : {}),
    checks: checksOf(c.findings ?? []),
    caseSpec,
  };
}

/** The run `selector` names (`<case>` or `<case>@<cell>`); without one, the report's only run. */
export function pickRun(runs: readonly RecordedRun[], selector: string | undefined, where: string): RecordedRun {
  const listing = runs.map((r) => r.stem).join(', ') || 'none';
  if (selector === undefined) {
    if (runs.length === 1) return runs[0] as RecordedRun;
    throw new UsageError(`${where} has ${runs.length} reproducible runs; name one`, `one of: ${listing}`);
  }
  const matches = runs.filter((r) => r.stem === selector || r.name === selector);
  if (matches.length === 1) return matches[0] as RecordedRun;
  if (matches.length === 0) throw new UsageError(`${where} has no run '${selector}'`, `one of: ${listing}`);
  throw new UsageError(`'${selector}' names ${matches.length} runs in ${where}`, `give CASE@CELL: ${matches.map((r) => r.stem).join(', ')}`);
}

/**
 * The recorded QEMU on this machine: the build cache entry of its key, else
 * the recorded binary, else `override` (--qemu / MEMMAP_HARNESS_QEMU, which
 * wins when given). Returns it with a note when its version is not the recorded one.
 */
export async function qemuForRun(run: RecordedRun, override: string | undefined): Promise<{ qemu: QemuUnderTest; notes: string[] }> {
  const binary = override ?? (await cachedBinary(run.qemu.buildKey)) ?? ((await isExecutable(run.qemu.binary)) ? run.qemu.binary : undefined);
  if (binary === undefined || !(await isExecutable(binary))) {
    const key = run.qemu.buildKey ? `build ${run.qemu.buildKey.slice(0, 16)}… is not in this machine's cache and ` : '';
    throw new HarnessError(`the QEMU of ${run.stem}: ${key}${binary ?? run.qemu.binary} is not here`, "build it (memmap-harness build with the run's --source/--patches) or give --qemu PATH");
  }
  const version = await qemuVersionOf(binary);
  const notes = run.qemu.version !== undefined && version !== run.qemu.version ? [`WARNING: QEMU ${version} here, the report ran ${run.qemu.version}`] : [];
  const { label, firmwareDirs, ownSeries } = run.qemu;
  return { qemu: { binary, label, firmwareDirs, version, ...(run.qemu.buildKey && !override ? { buildKey: run.qemu.buildKey } : {}), ...(ownSeries ? { ownSeries } : {}) }, notes };
}

/** Differences between the kernel and firmware packages the report pinned and the ones this machine's cache gives (fetching them if needed). */
export async function inputDifferences(run: RecordedRun): Promise<string[]> {
  if (!run.inputs) return [`WARNING: the report pins no kernel or firmware packages for ${run.stem}`];
  const kernel = await ensureKernel(run.kernel);
  const firmware = await ensureFirmware(run.firmware);
  const recorded = [...run.inputs.kernel, run.inputs.firmware];
  const here = [...kernel.packages, firmware.package];
  const differences: string[] = [];
  for (const want of recorded) {
    const have = here.find((p) => p.name === want.name);
    if (!have) differences.push(`WARNING: ${want.name} ${want.version} is not among this machine's inputs`);
    else if (have.version !== want.version || (want.sha256 && have.sha256 !== want.sha256)) differences.push(`WARNING: ${want.name} here is ${have.version} (${short(have.sha256)}), the report had ${want.version} (${short(want.sha256)})`);
  }
  return differences;
}

/** How the new verdict differs from the recorded one: status, and each check that held in one and not the other (or is only in one). */
export function verdictDifferences(run: RecordedRun, now: Verdict): string[] {
  const differences = now.status === run.status ? [] : [`status: ${run.status} in the report, ${now.status} now${now.reason ? ` (${now.reason})` : ''}`];
  // A run that broke or did not apply checked nothing: its status says it all.
  if (now.findings.length === 0 && now.status !== run.status) return differences;
  const current = checksOf(now.findings);
  for (const [check, ok] of run.checks) {
    const held = current.get(check);
    if (held === undefined) differences.push(`${check}: checked in the report, not now`);
    else if (held !== ok) differences.push(`${check}: ${ok ? 'held' : 'failed'} in the report, ${held ? 'holds' : 'fails'} now`);
  }
  for (const check of current.keys()) if (!run.checks.has(check)) differences.push(`${check}: checked now, not in the report`);
  return differences;
}

function checksOf(findings: readonly { aspect: string; check: string; ok: boolean }[]): Map<string, boolean> {
  return new Map(findings.map((f) => [`${f.aspect}: ${f.check}`, f.ok]));
}

async function cachedBinary(buildKey: string | undefined): Promise<string | undefined> {
  if (buildKey === undefined) return undefined;
  for (const area of ['qemu', 'qemu-bin']) {
    const entry = await readEntry<{ binary?: string }>(join(cacheArea(area), buildKey));
    if (entry?.binary !== undefined && (await isExecutable(entry.binary))) return entry.binary;
  }
  return undefined;
}

function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

function short(sha256: string | undefined): string {
  return sha256 ? `sha256 ${sha256.slice(0, 12)}…` : 'no sha256';
}
