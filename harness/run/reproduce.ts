import { access, constants } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { readEntry } from '../cache/entry.ts';
import { CaseFileError, validateCase } from '../case/load.ts';
import type { BackendKind, CaseSpec, MachineType } from '../case/types.ts';
import type { PinnedPackage, QemuIdentity, Status, Verdict } from '../core/vocabulary.ts';
import { ensureFirmware, FIRMWARE_IDS, isFirmwareId } from '../image/firmware.ts';
import { ensureKernel, isKernelId, KERNEL_IDS } from '../image/kernel.ts';
import { loadProfiles } from '../traits/profiles.ts';
import { qemuVersionOf } from '../qemu-build/steps.ts';
import { runStem } from '../report/cell.ts';
import { REPORT_SCHEMA_VERSION } from '../report/json.ts';
import { cacheArea, cacheRoot } from '../util/cache-dirs.ts';
import { FIRMWARE_DIRS } from '../util/paths.ts';
import { caseFileOf } from './case-lines.ts';
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
  inputs?: unknown;
  findings?: unknown;
  run?: { qemu?: unknown; transport?: unknown; backend?: unknown; profile?: unknown };
  caseData?: unknown;
}

/** The runs of a parsed report.json that carry what a reproduction needs; a report too old or not one is a usage error. */
export function recordedRuns(report: unknown, where: string): RecordedRun[] {
  const r = report as { schemaVersion?: unknown; cases?: unknown };
  if (typeof r !== 'object' || r === null || !Array.isArray(r.cases)) throw new UsageError(`${where} is not a memmap-harness report.json`, 'give the report.json a run, matrix or cell wrote');
  if (typeof r.schemaVersion !== 'number' || r.schemaVersion < REPORT_SCHEMA_VERSION) {
    throw new UsageError(`${where} has report schema ${String(r.schemaVersion ?? 1)}, which does not record how its runs were made`, `reports from schema ${REPORT_SCHEMA_VERSION} on can be reproduced; run the case again`);
  }
  return (r.cases as unknown[]).flatMap((c, index) => {
    if (typeof c !== 'object' || c === null) throw badField(where, `cases[${index}]`, 'is not an object');
    const rc = c as ReportCase;
    return typeof rc.run === 'object' && rc.run !== null && rc.run.qemu !== undefined && rc.caseData !== undefined ? [recordedRun(rc, where, `cases[${index}]`)] : [];
  });
}

/**
 * A report is input from anyone (a CI artifact, a fork's pull request): every
 * field that reaches a path, a file name or QEMU's command line is checked
 * before use, and the first bad one is a usage error naming it.
 */
function recordedRun(c: ReportCase, where: string, at: string): RecordedRun {
  const fail = (field: string, what: string): never => {
    throw badField(where, `${at}.${field}`, what);
  };
  const oneOf = <T extends string>(value: unknown, field: string, allowed: readonly T[]): T => (allowed.includes(value as T) ? (value as T) : fail(field, `must be one of ${allowed.join(', ')}`));
  const run = c.run as NonNullable<ReportCase['run']>;
  const caseSpec = recordedCase(c.caseData, where, at);
  const name = c.name === caseSpec.name ? caseSpec.name : fail('name', `must be the recorded case's name '${caseSpec.name}'`);
  const machine = oneOf(c.machine, 'machine', MACHINES);
  const firmware = isFirmwareId(String(c.firmware)) && typeof c.firmware === 'string' ? c.firmware : fail('firmware', `must be a firmware id (${FIRMWARE_IDS.join(', ')})`);
  const kernel = isKernelId(String(c.kernel)) && typeof c.kernel === 'string' ? c.kernel : fail('kernel', `must be a kernel id (${KERNEL_IDS.join(', ')})`);
  const qemuLabel = isSafeLabel(c.qemu) ? c.qemu : fail('qemu', 'must be a label of letters, digits, ., _, + and -');
  const v = { name, machine, firmware, kernel, qemu: qemuLabel };
  const profiles = loadProfiles().map((p) => p.id);
  return {
    ...v,
    stem: runStem(v),
    status: oneOf(c.status, 'status', STATUSES),
    ...(c.inputs !== undefined ? { inputs: recordedInputs(c.inputs, (field, what) => fail(`inputs${field}`, what)) } : {}),
    qemu: recordedQemu(run.qemu, (field, what) => fail(`run.qemu${field}`, what)),
    transport: oneOf(run.transport, 'run.transport', TRANSPORTS),
    ...(run.backend !== undefined ? { backend: oneOf(run.backend, 'run.backend', BACKENDS) } : {}),
    ...(run.profile !== undefined ? { profile: oneOf(run.profile, 'run.profile', profiles) } : {}),
    checks: checksOf(recordedFindings(c.findings, (field, what) => fail(`findings${field}`, what))),
    caseSpec,
  };
}

const STATUSES: readonly Status[] = ['pass', 'fail', 'error', 'unsupported'];
const TRANSPORTS = ['unix', 'websocket'] as const;
const MACHINES: readonly MachineType[] = ['q35', 'pc'];
const BACKENDS: readonly BackendKind[] = ['ram', 'memfd', 'file'];
const BUILD_KEY = /^[0-9a-f]{64}$/;
const SHA256 = /^[0-9a-f]{64}$/;

function badField(where: string, field: string, what: string): UsageError {
  return new UsageError(`${where}: ${field} ${what}`, 'this report cannot be reproduced; use the report.json a run wrote, unedited');
}

/** The recorded case through the case-file validator (rows rendered back to kernel lines); its result is what runs. */
function recordedCase(data: unknown, where: string, at: string): CaseSpec {
  let spec: unknown;
  try {
    spec = fromExactJson(data);
  } catch {
    throw badField(where, `${at}.caseData`, 'is not JSON data');
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw badField(where, `${at}.caseData`, 'is not a case');
  try {
    return validateCase(caseFileOf(spec as CaseSpec), `${where}: ${at}.caseData`);
  } catch (error) {
    if (error instanceof CaseFileError) throw new UsageError(error.message, 'this report cannot be reproduced; use the report.json a run wrote, unedited');
    throw badField(where, `${at}.caseData`, `is not a case (${(error as Error).message})`);
  }
}

/** The QEMU identity: a build key of 64 hex digits, a safe label, firmware directories this machine knows. */
function recordedQemu(value: unknown, fail: (field: string, what: string) => never): QemuIdentity {
  const q = value as Partial<Record<keyof QemuIdentity, unknown>>;
  if (typeof q !== 'object' || q === null) return fail('', 'must be an object');
  if (typeof q.binary !== 'string') fail('.binary', 'must be a path');
  if (!isSafeLabel(q.label)) fail('.label', 'must be a label of letters, digits, ., _, + and -');
  if (q.version !== undefined && (typeof q.version !== 'string' || !/^[0-9A-Za-z.+~:-]{1,64}$/.test(q.version))) fail('.version', 'must be a QEMU version');
  if (q.buildKey !== undefined && (typeof q.buildKey !== 'string' || !BUILD_KEY.test(q.buildKey))) fail('.buildKey', 'must be 64 lower-case hex digits');
  if (!Array.isArray(q.firmwareDirs)) fail('.firmwareDirs', 'must be a list of directories');
  (q.firmwareDirs as unknown[]).forEach((dir, i) => {
    if (!isKnownFirmwareDir(dir)) fail(`.firmwareDirs[${i}]`, `must be one of ${FIRMWARE_DIRS.join(', ')} or a directory in the cache ${cacheRoot()}`);
  });
  if (q.ownSeries !== undefined && !loadProfiles().some((p) => p.id === q.ownSeries)) fail('.ownSeries', 'must be a revision id');
  return {
    binary: q.binary as string,
    label: q.label as string,
    firmwareDirs: [...(q.firmwareDirs as string[])],
    ...(q.version !== undefined ? { version: q.version as string } : {}),
    ...(q.buildKey !== undefined ? { buildKey: q.buildKey as string } : {}),
    ...(q.ownSeries !== undefined ? { ownSeries: q.ownSeries as string } : {}),
  };
}

/** `-L` directories: the system's firmware directories, or one inside the harness's cache (a debian-bin QEMU's own). */
function isKnownFirmwareDir(dir: unknown): boolean {
  if (typeof dir !== 'string' || !isAbsolute(dir) || normalize(dir) !== dir || dir.split('/').includes('..')) return false;
  if (FIRMWARE_DIRS.includes(dir)) return true;
  const inCache = relative(cacheRoot(), dir);
  return inCache !== '' && !inCache.startsWith('..') && !isAbsolute(inCache);
}

function recordedInputs(value: unknown, fail: (field: string, what: string) => never): NonNullable<RecordedRun['inputs']> {
  const v = value as { kernel?: unknown; firmware?: unknown };
  if (typeof v !== 'object' || v === null || !Array.isArray(v.kernel)) return fail('.kernel', 'must be a list of packages');
  return { kernel: v.kernel.map((p, i) => pinnedPackage(p, `.kernel[${i}]`, fail)), firmware: pinnedPackage(v.firmware, '.firmware', fail) };
}

function pinnedPackage(value: unknown, at: string, fail: (field: string, what: string) => never): PinnedPackage {
  const p = value as Partial<Record<keyof PinnedPackage, unknown>>;
  if (typeof p !== 'object' || p === null) return fail(at, 'must be a package');
  if (typeof p.name !== 'string' || !/^[a-z0-9][a-z0-9.+-]*$/.test(p.name)) fail(`${at}.name`, 'must be a Debian package name');
  if (typeof p.version !== 'string' || !/^[0-9A-Za-z.+~:-]+$/.test(p.version)) fail(`${at}.version`, 'must be a Debian version');
  if (p.sha256 !== undefined && (typeof p.sha256 !== 'string' || !SHA256.test(p.sha256))) fail(`${at}.sha256`, 'must be 64 lower-case hex digits');
  return { name: p.name as string, version: p.version as string, ...(p.sha256 !== undefined ? { sha256: p.sha256 as string } : {}) };
}

function recordedFindings(value: unknown, fail: (field: string, what: string) => never): { aspect: string; check: string; ok: boolean }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return fail('', 'must be a list');
  return value.map((f: { aspect?: unknown; check?: unknown; ok?: unknown }, i) => {
    if (typeof f !== 'object' || f === null || typeof f.aspect !== 'string' || typeof f.check !== 'string' || typeof f.ok !== 'boolean') return fail(`[${i}]`, 'must be {aspect, check, ok}');
    return { aspect: f.aspect, check: f.check, ok: f.ok };
  });
}

function isSafeLabel(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,127}$/.test(value);
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
 * The recorded QEMU on this machine: `override` (--qemu / MEMMAP_HARNESS_QEMU)
 * when given, else the build cache entry of the recorded key. The binary path
 * a report records is never run: a report may come from anyone. Returns it
 * with a note when its version is not the recorded one.
 */
export async function qemuForRun(run: RecordedRun, override: string | undefined): Promise<{ qemu: QemuUnderTest; notes: string[] }> {
  const cached = override === undefined ? await cachedBuild(run.qemu.buildKey) : undefined;
  const binary = override ?? cached?.binary;
  if (binary === undefined || !(await isExecutable(binary))) {
    if (override !== undefined) throw new HarnessError(`--qemu ${override}: no executable there`, 'give the path of a qemu-system-x86_64');
    const key = run.qemu.buildKey ? `build ${run.qemu.buildKey.slice(0, 16)}… is not in this machine's cache` : 'the report names no build key';
    throw new HarnessError(`the QEMU of ${run.stem}: ${key} (the report's binary path is not run)`, "build it (memmap-harness build with the run's --source/--patches) or give --qemu PATH");
  }
  const version = await qemuVersionOf(binary);
  const notes = run.qemu.version !== undefined && version !== run.qemu.version ? [`WARNING: QEMU ${version} here, the report ran ${run.qemu.version}`] : [];
  const { label, ownSeries } = run.qemu;
  // The cache entry knows its own firmware directories; the report's (checked) serve a --qemu binary.
  const firmwareDirs = cached?.firmwareDirs ?? run.qemu.firmwareDirs;
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

async function cachedBuild(buildKey: string | undefined): Promise<{ binary: string; firmwareDirs?: string[] } | undefined> {
  // Checked when the report was read; checked again here because this joins it into a path.
  if (buildKey === undefined || !BUILD_KEY.test(buildKey)) return undefined;
  for (const area of ['qemu', 'qemu-bin']) {
    const entry = await readEntry<{ binary?: string; firmwareDirs?: string[] }>(join(cacheArea(area), buildKey));
    if (typeof entry?.binary === 'string' && (await isExecutable(entry.binary))) return { binary: entry.binary, ...(Array.isArray(entry.firmwareDirs) ? { firmwareDirs: entry.firmwareDirs } : {}) };
  }
  return undefined;
}

function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

function short(sha256: string | undefined): string {
  return sha256 ? `sha256 ${sha256.slice(0, 12)}…` : 'no sha256';
}
