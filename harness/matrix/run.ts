import { mkdir, readFile } from 'node:fs/promises';
import type { Accelerator } from '../util/accel.ts';
import { join } from 'node:path';
import { REPO_ROOT } from '../util/paths.ts';
import { ensureQemuFromSource } from '../qemu-build/any-source.ts';
import type { CaseSpec } from '../case/types.ts';
import { parseSerialLog, type SerialLog } from '../parse/log.ts';
import type { Verdict } from '../core/vocabulary.ts';
import { imageTasks } from '../run/prepare.ts';
import { runCase, type QemuUnderTest } from '../run/run-case.ts';
import { detectChanges } from './behaviour.ts';
import { caseInInterface } from './interface.ts';
import { cellConfiguration, expectationFor } from './cell-configuration.ts';
import type { CaseExpectation } from '../model/case-expectation.ts';
import type { PlannedCell } from './expand.ts';
import { runPool } from '../host/pool.ts';
import type { Progress } from './progress.ts';
import { outcomeOf, outcomeReason, type MatrixRow } from './row.ts';
import type { Cell, MatrixDefinition } from './types.ts';

export interface MatrixRunOptions {
  def: MatrixDefinition;
  cells: readonly PlannedCell[];
  /** Every case by name. */
  cases: ReadonlyMap<string, CaseSpec>;
  /** QEMU source spec for every build; default the builder's (Debian's 10.2.2). A debian-bin: spec serves only revisions without a series. */
  source?: string;
  jobs: number;
  /** Serial logs go to <resultsDir>/cells/<cell>/. */
  resultsDir: string;
  progress: Progress;
  /** Per boot, from `cont` to the guest program's end; default runCase's. */
  bootTimeoutMs?: number;
}

/** A prerequisite per axis value: ready, or the reason every run needing it is an error. */
type Prepared<T> = Map<string, { ok: T } | { error: string }>;

/** One run of the matrix: builds and images first (one at a time), then the cell × case runs in parallel. */
export async function runMatrix(options: MatrixRunOptions): Promise<MatrixRow[]> {
  const qemus = await prepareBuilds(options);
  const images = await prepareImages(options);
  const runs = options.cells.flatMap((planned) => planned.cases.map((name) => ({ planned, name })));
  return runPool(runs, options.jobs, async ({ planned, name }) => {
    const label = `${planned.name} ${name}`;
    options.progress.started(label);
    const row = await runRow(options, planned, name, qemus, images);
    options.progress.finished(label, row.outcome, row.verdict.durationMs / 1000);
    return row;
  });
}

/** Each revision's QEMU, built (or found in the cache) once, in order: builds use every core. */
async function prepareBuilds(options: MatrixRunOptions): Promise<Prepared<QemuUnderTest>> {
  const out: Prepared<QemuUnderTest> = new Map();
  for (const revision of unique(options.cells.map((c) => c.cell.revision))) {
    const series = options.def.revisions[revision]?.series ?? null;
    // A revision with its own source (upstream 11.1 as a Debian binary) ignores --source.
    const source = options.def.revisions[revision]?.source ?? options.source;
    try {
      const { manifest, cacheHit } = await ensureQemuFromSource({ source, patches: series === null ? null : join(REPO_ROOT, series) });
      // Built from this project's own series of the revision: its refusal wording is checked, as `run` does.
      out.set(revision, { ok: { binary: manifest.binary, label: revision, firmwareDirs: manifest.firmwareDirs, version: manifest.qemuVersion, buildKey: manifest.cacheKey, ...(series === null ? {} : { ownSeries: revision }) } });
      options.progress.note(`QEMU ${revision}: ${cacheHit ? 'cached' : 'built'} ${manifest.binary}`);
    } catch (error) {
      out.set(revision, { error: `building QEMU for ${revision} failed: ${oneLine(error)}` });
      options.progress.note(`QEMU ${revision}: FAILED: ${oneLine(error)}`);
    }
  }
  return out;
}

/** Kernels (with their guest initramfs) and firmware the cells use, fetched or built before any guest starts. */
async function prepareImages(options: MatrixRunOptions): Promise<Prepared<true>> {
  const out: Prepared<true> = new Map();
  const attempt = async (key: string, work: () => Promise<unknown>) => {
    try {
      await work();
      out.set(key, { ok: true });
    } catch (error) {
      out.set(key, { error: `${key.replace(':', ' ')}: ${oneLine(error)}` });
      options.progress.note(`${key.replace(':', ' ')}: FAILED: ${oneLine(error)}`);
    }
  };
  for (const task of imageTasks(options.cells.map((c) => c.cell.kernel), options.cells.map((c) => c.cell.firmware))) await attempt(task.key, task.work);
  options.progress.note(`images ready: ${[...out].filter(([, v]) => 'ok' in v).map(([k]) => k.split(':')[1]).join(', ')}`);
  return out;
}

async function runRow(options: MatrixRunOptions, planned: PlannedCell, caseName: string, qemus: Prepared<QemuUnderTest>, images: Prepared<true>): Promise<MatrixRow> {
  const { cell } = planned;
  const written = options.cases.get(caseName);
  if (!written) return errorRow(planned, caseName, `no case named '${caseName}' in cases/`);
  let spec: CaseSpec;
  try {
    spec = caseInInterface(written, cell.interface);
  } catch (error) {
    return errorRow(planned, caseName, oneLine(error));
  }
  const expectation = expectationFor(cell, spec);
  const missing = [qemus.get(cell.revision), images.get(`kernel:${cell.kernel}`), images.get(`firmware:${cell.firmware}`)].find((p) => p !== undefined && 'error' in p);
  const qemu = qemus.get(cell.revision);
  if (missing && 'error' in missing) return finish(planned, expectation, errorVerdict(cell, spec, missing.error), undefined);
  if (expectation.kind === 'underivable' || !qemu || !('ok' in qemu)) return finish(planned, expectation, errorVerdict(cell, spec, expectation.problem ?? 'no QEMU for this revision'), undefined);
  const logDir = join(options.resultsDir, 'cells', planned.name);
  await mkdir(logDir, { recursive: true });
  let verdict: Verdict;
  try {
    // The same call `run` makes: runCase asks the expectation engine for this configuration itself.
    const config = cellConfiguration(cell);
    verdict = await runCase(spec, { qemu: qemu.ok, machine: config.machine, firmware: cell.firmware, kernel: cell.kernel, backend: config.backend, profile: cell.revision, transport: cell.transport as 'unix' | 'websocket', accel: cell.accel as Accelerator, logDir, bootTimeoutMs: options.bootTimeoutMs });
  } catch (error) {
    // runCase turns QEMU and guest failures into verdicts; anything it throws is the harness's own trouble.
    verdict = errorVerdict(cell, spec, `the harness failed: ${oneLine(error)}`);
  }
  const log = verdict.serialLog ? parseSerialLog(await readFile(verdict.serialLog, 'latin1').catch(() => '')) : undefined;
  return finish(planned, expectation, verdict, log);
}

/** Adds the behaviour-change detection to a verdict and decides the outcome. */
function finish(planned: PlannedCell, expectation: CaseExpectation, verdict: Verdict, log: SerialLog | undefined): MatrixRow {
  const status = verdict.status;
  const changes = log ? detectChanges(planned.cell, expectation, log) : [];
  const checked = verdict;
  const outcome = outcomeOf(expectation, checked, changes);
  const reportStatus = outcome === 'changed' || (outcome === 'fail' && status !== 'fail') ? 'fail' : status;
  const reason = outcomeReason(expectation, checked, changes);
  return {
    cell: planned.name,
    axes: planned.cell,
    case: expectation.spec.name,
    outcome,
    expected: { summary: expectation.summary, tags: expectation.tags, reasons: expectation.reasons },
    changes,
    verdict: { ...checked, status: reportStatus, ...(reason === undefined ? {} : { reason }), cell: planned.name },
  };
}

function errorRow(planned: PlannedCell, caseName: string, reason: string): MatrixRow {
  const verdict: Verdict = { name: caseName, status: 'error', reason, firmware: planned.cell.firmware, kernel: planned.cell.kernel, machine: planned.cell.machine, qemu: planned.cell.revision, findings: [], e820: [], srat: [], durationMs: 0 };
  return { cell: planned.name, axes: planned.cell, case: caseName, outcome: 'error', expected: { summary: [], tags: [], reasons: [] }, changes: [], verdict: { ...verdict, cell: planned.name } };
}

function errorVerdict(cell: Cell, spec: CaseSpec, reason: string): Verdict {
  return { name: spec.name, status: 'error', reason, firmware: cell.firmware, kernel: cell.kernel, machine: cell.machine, qemu: cell.revision, findings: [], e820: [], srat: [], durationMs: 0 };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function oneLine(error: unknown): string {
  if (error instanceof Error && 'oneLine' in error && typeof error.oneLine === 'function') return String(error.oneLine());
  return error instanceof Error ? error.message : String(error);
}
