import { join } from 'node:path';
import { REPO_ROOT } from '../util/paths.ts';
import { loadCases } from '../case/load.ts';
import type { CaseSpec } from '../case/types.ts';
import { isFirmwareId } from '../image/firmware.ts';
import { isKernelId } from '../image/kernel.ts';
import { formatVerdict } from '../report/console.ts';
import { checkKvmDevice, type AcceleratorChoice, type KvmCheck } from '../util/accel.ts';
import { EXIT } from '../util/exit-codes.ts';
import type { PlannedCell, UnavailableCell } from './expand.ts';
import { decideJobsHere } from '../run/jobs.ts';
import { createProgress, elapsed } from './progress.ts';
import { writeMatrixReports, writeStepSummary } from './report.ts';
import type { MatrixRow } from './row.ts';
import { runMatrix } from './run.ts';
import type { Axis, MatrixDefinition } from './types.ts';

export const CASES_DIR = join(REPO_ROOT, 'cases');

/** Names of every case file in cases/ (what a matrix's `"cases": "all"` means). */
export async function allCaseNames(dir: string = CASES_DIR): Promise<string[]> {
  return (await loadCases(dir)).map((c) => c.name);
}

/** Why an axis value cannot run here (an id the image builder does not know yet, kvm without a usable /dev/kvm), else undefined. */
export function unavailableHere(axis: Axis, value: string, kvmProblem: KvmCheck = checkKvmDevice): string | undefined {
  if (axis === 'kernel' && !isKernelId(value)) return `kernel '${value}' is not known to harness/image yet`;
  if (axis === 'firmware' && !isFirmwareId(value)) return `firmware '${value}' is not known to harness/image yet`;
  if (axis === 'accel' && value === 'kvm') return kvmProblem();
  return undefined;
}

/**
 * Why --accel (or MEMMAP_HARNESS_ACCEL) leaves a cell of this accelerator out, else undefined:
 * tcg (the default) runs the tcg cells, kvm only the kvm cells, auto both (kvm where usable).
 */
export function leftOutByAccel(choice: AcceleratorChoice, axis: Axis, value: string): string | undefined {
  if (axis !== 'accel' || choice === 'auto' || choice === value) return undefined;
  return choice === 'tcg' ? '--accel tcg (the default) runs only tcg cells; --accel auto or kvm runs the kvm cells where /dev/kvm is usable' : `--accel ${choice} runs only ${choice} cells`;
}

/** What keeps a cell from running here under an accelerator choice: the choice first, then the host. */
export function unavailableFor(choice: AcceleratorChoice, kvmProblem: KvmCheck = checkKvmDevice): (axis: Axis, value: string) => string | undefined {
  return (axis, value) => leftOutByAccel(choice, axis, value) ?? unavailableHere(axis, value, kvmProblem);
}

export interface ExecuteOptions {
  def: MatrixDefinition;
  cells: readonly PlannedCell[];
  unavailable: readonly UnavailableCell[];
  /** --jobs; default decided from cores and memory. */
  jobs?: number;
  results: string;
  source?: string;
  title?: string;
  print?: (line: string) => void;
  bootTimeoutMs?: number;
}

/** Runs the planned cells, prints what failed and where the reports are, and returns the exit status (util/exit-codes.ts). */
export async function executeMatrix(options: ExecuteOptions): Promise<number> {
  const print = options.print ?? console.log;
  const cases = await casesByName(options.cells);
  const runs = options.cells.reduce((n, c) => n + c.cases.length, 0);
  const decision = decideJobsHere(cases.values(), runs, options.jobs);
  print(`matrix: ${options.cells.length} cell(s), ${runs} run(s)`);
  for (const u of options.unavailable) print(`  not run here: ${u.name}: ${u.reason}`);
  print(`jobs: ${decision.jobs} (${decision.why})`);
  const progress = createProgress(runs);
  const started = Date.now();
  let rows: MatrixRow[];
  try {
    rows = await runMatrix({ def: options.def, cells: options.cells, cases, source: options.source, jobs: decision.jobs, resultsDir: options.results, progress, bootTimeoutMs: options.bootTimeoutMs });
  } finally {
    progress.stop();
  }
  const meta = { wallMs: Date.now() - started, jobs: decision.jobs, jobsWhy: decision.why, unavailable: [...options.unavailable], ...(options.title ? { title: options.title } : {}) };
  printProblems(rows, print);
  const paths = await writeMatrixReports(options.results, options.def, rows, meta);
  if (await writeStepSummary(paths)) print('summary appended to $GITHUB_STEP_SUMMARY');
  print(tally(rows, meta.wallMs));
  print(`results: ${options.results} (summary: ${paths.matrixSummary})`);
  return matrixExitStatus(rows);
}

/** 1 when a row failed or changed behaviour, else 3 when one broke, else 0. */
export function matrixExitStatus(rows: readonly Pick<MatrixRow, 'outcome'>[]): number {
  if (rows.some((r) => r.outcome === 'fail' || r.outcome === 'changed')) return EXIT.failed;
  return rows.some((r) => r.outcome === 'error') ? EXIT.infrastructure : EXIT.ok;
}

async function casesByName(cells: readonly PlannedCell[]): Promise<Map<string, CaseSpec>> {
  const names = [...new Set(cells.flatMap((c) => c.cases))];
  const specs = names.length > 0 ? await loadCases(CASES_DIR, names) : [];
  return new Map(specs.map((s) => [s.name, s]));
}

/** Every row that is not a pass, with its evidence; behaviour changes first and loudly. */
function printProblems(rows: readonly MatrixRow[], print: (line: string) => void): void {
  const changed = rows.filter((r) => r.outcome === 'changed');
  if (changed.length > 0) {
    print('');
    print('!!!!!!!! BEHAVIOUR CHANGED: a firmware or kernel no longer does what harness/traits/traits.json says !!!!!!!!');
    for (const r of changed) for (const c of r.changes) print(`  ${r.cell} ${r.case}: ${c}`);
  }
  for (const r of rows.filter((x) => x.outcome === 'fail' || x.outcome === 'error')) {
    print('');
    print(`${r.outcome.toUpperCase()} ${r.cell} ${r.case}${r.expected.summary.length ? `  (expected: ${r.expected.summary.join('; ')})` : ''}`);
    formatVerdict(r.verdict).forEach((line) => print(`  ${line}`));
  }
}

export function tally(rows: readonly MatrixRow[], wallMs: number): string {
  const n = (o: MatrixRow['outcome']) => rows.filter((r) => r.outcome === o).length;
  const cells = new Set(rows.map((r) => r.cell)).size;
  return `${cells} cells, ${rows.length} runs: ${n('pass')} passed, ${n('fail')} failed, ${n('error')} errors, ${n('changed')} behaviour changes; wall time ${elapsed(wallMs)}`;
}
