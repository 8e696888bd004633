/**
 * The GitHub workflow's two matrix steps that are not a plain CLI call.
 *
 *   npx tsx scripts/ci-matrix.ts plan
 *       The cells to fan out, from cases/matrix/matrix.json with $MATRIX_SUBSET
 *       ("full" or a subset name) and $MATRIX_FILTER (space-separated
 *       `memmap-harness matrix --filter` expressions). $MATRIX_KVM=true marks
 *       every cell for /dev/kvm in its container (opt-in: docker refuses to
 *       start a container whose --device is missing) and plans the kvm cells. Writes cells=[{name,
 *       revision, kvm}] and revisions=[…] to $GITHUB_OUTPUT (and prints them),
 *       and the plan to $GITHUB_STEP_SUMMARY.
 *
 *   npx tsx scripts/ci-matrix.ts merge ARTIFACTS_DIR OUT_DIR
 *       Joins the matrix-rows.json of every cell job's artifact into the
 *       whole matrix's reports in OUT_DIR and the job summary. Cells listed in
 *       $PLANNED_CELLS (the plan's JSON) without results are named as missing.
 *       Every row that is not as expected becomes a GitHub annotation on its
 *       case file; each cell's rows are printed in a collapsed log group.
 *       Exit 1 unless every planned row is as expected.
 */
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../harness/util/paths.ts';
import { allCaseNames, CASES_DIR, tally, unavailableHere } from '../harness/matrix/execute.ts';
import { parseFilter, planMatrix } from '../harness/matrix/expand.ts';
import { loadMatrix } from '../harness/matrix/load.ts';
import { decodeRows, ROWS_FILE, writeMatrixReports, writeStepSummary, type MatrixMeta } from '../harness/matrix/report.ts';
import type { MatrixRow } from '../harness/matrix/row.ts';

/** One cell job of the workflow's fan-out. */
export interface PlannedJob {
  name: string;
  revision: string;
  /** Whether the job's container gets `--device /dev/kvm`. */
  kvm: boolean;
}

/** Where a behaviour change is fixed: the matrix file states the firmware and kernel facts. */
const MATRIX_FILE = 'cases/matrix/matrix.json';

async function plan(): Promise<number> {
  const def = await loadMatrix();
  const subset = process.env.MATRIX_SUBSET && process.env.MATRIX_SUBSET !== 'full' ? process.env.MATRIX_SUBSET : undefined;
  const filters = (process.env.MATRIX_FILTER ?? '').split(/\s+/).filter((f) => f.length > 0).map((f) => parseFilter(f, def));
  const kvm = process.env.MATRIX_KVM === 'true';
  // The plan's own container has no /dev/kvm; the cell containers get it exactly when MATRIX_KVM is on.
  const kvmProblem = () => (kvm ? undefined : "the workflow's kvm input is off: the cell containers get no /dev/kvm");
  const { cells, unavailable } = planMatrix(def, { allCases: await allCaseNames(), unavailable: (axis, value) => unavailableHere(axis, value, kvmProblem), subset, filters });
  for (const u of unavailable) console.error(`not planned: ${u.name}: ${u.reason}`);
  const jobs: PlannedJob[] = cells.map((c) => ({ name: c.name, revision: c.cell.revision, kvm }));
  const revisions = [...new Set(jobs.map((j) => j.revision))];
  const runs = cells.reduce((n, c) => n + c.cases.length, 0);
  console.log(`${cells.length} cells (${runs} runs) for revisions ${revisions.join(', ')}${kvm ? '; containers get /dev/kvm' : ''}`);
  console.log(group('planned cells', jobs.map((j) => j.name)));
  if (process.env.GITHUB_OUTPUT) await appendFile(process.env.GITHUB_OUTPUT, `cells=${JSON.stringify(jobs)}\nrevisions=${JSON.stringify(revisions)}\n`);
  else console.log(JSON.stringify({ cells: jobs, revisions }));
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, planMarkdown(jobs, runs, subset ?? 'full', kvm));
  return cells.length > 0 ? 0 : 1;
}

/** The plan job's summary: which subset, how many cells, and their names. */
export function planMarkdown(jobs: readonly PlannedJob[], runs: number, subset: string, kvm: boolean): string {
  const lines = jobs.map((j) => `- \`${j.name}\``);
  const accel = kvm ? 'containers get `/dev/kvm` (tcg cells still run `-accel tcg`; kvm cells `-accel kvm`, verdict "expectation unverified")' : 'TCG only, no `/dev/kvm` in the containers (kvm cells not planned)';
  return `## Matrix plan\n\nSubset **${subset}**: ${jobs.length} cells, ${runs} runs; ${accel}.\n\n${lines.join('\n')}\n`;
}

async function merge(artifacts: string, outDir: string): Promise<number> {
  const def = await loadMatrix();
  const parts = await Promise.all((await findRowFiles(artifacts)).map(async (f) => decodeRows(await readFile(f, 'utf8'))));
  const rows: MatrixRow[] = parts.flatMap((p) => p.rows);
  const planned = JSON.parse(process.env.PLANNED_CELLS ?? '[]') as { name: string }[];
  const seen = new Set(rows.map((r) => r.cell));
  const missing = planned.filter((c) => !seen.has(c.name)).map((c) => ({ name: c.name, reason: 'its job left no results: see the job log' }));
  const meta: MatrixMeta = {
    wallMs: Math.max(0, ...parts.map((p) => p.meta.wallMs)),
    jobs: parts.length,
    jobsWhy: `one GitHub job per cell; wall time is the slowest cell's`,
    unavailable: [...parts.flatMap((p) => p.meta.unavailable), ...missing],
    title: `memmap-harness matrix: ${parts.length} cell jobs`,
  };
  const paths = await writeMatrixReports(outDir, def, rows, meta);
  for (const cell of [...seen].sort()) console.log(group(cell, rows.filter((r) => r.cell === cell).map(rowLine)));
  const files = await caseFiles();
  for (const line of rows.flatMap((r) => rowAnnotation(r, files))) console.log(line);
  for (const m of missing) console.log(workflowCommand('error', `cell ${m.name}: ${m.reason}`, { title: `missing cell ${m.name}` }));
  if (await writeStepSummary(paths)) console.log('summary appended to $GITHUB_STEP_SUMMARY');
  console.log(tally(rows, meta.wallMs));
  console.log(`reports: ${outDir}`);
  if (missing.length > 0) console.log(`missing cells: ${missing.map((m) => m.name).join(', ')}`);
  return rows.length > 0 && missing.length === 0 && rows.every((r) => r.outcome === 'pass') ? 0 : 1;
}

/** Every matrix-rows.json under `dir` (download-artifact puts each artifact in its own directory). */
async function findRowFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name === ROWS_FILE).map((e) => join(e.parentPath, e.name)).sort();
}

/** Case name → its file relative to the repository root, read from the files themselves (a name need not match its file name). */
export async function caseFiles(dir: string = CASES_DIR): Promise<Map<string, string>> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const pairs = await Promise.all(
    names.map(async (f) => {
      const data = JSON.parse(await readFile(join(dir, f), 'utf8')) as { name?: unknown };
      return [typeof data.name === 'string' ? data.name : f.replace(/\.json$/, ''), relative(REPO_ROOT, join(dir, f))] as const;
    }),
  );
  return new Map(pairs);
}

/**
 * The annotation for a row that is not as expected: an error on its case file
 * (a behaviour change on the matrix file, where the fact is stated); none for a pass.
 */
export function rowAnnotation(row: MatrixRow, files: ReadonlyMap<string, string>): string[] {
  if (row.outcome === 'pass') return [];
  if (row.outcome === 'changed') {
    return [workflowCommand('error', row.changes.join('\n'), { file: MATRIX_FILE, title: `behaviour changed: ${row.cell} ${row.case}` })];
  }
  const failed = row.verdict.findings.filter((f) => !f.ok).map((f) => `${f.aspect}: ${f.check}`);
  const expected = row.expected.summary.length > 0 ? [`expected: ${row.expected.summary.join('; ')}`] : [];
  const message = [row.verdict.reason, ...failed, ...expected].filter((x): x is string => x !== undefined && x !== '').join('\n');
  const file = files.get(row.case) ?? `cases/${row.case}.json`;
  return [workflowCommand('error', message || row.outcome, { file, title: `${row.outcome.toUpperCase()} ${row.cell} ${row.case}` })];
}

/** One line of a cell's log group. */
function rowLine(r: MatrixRow): string {
  return `${r.outcome.padEnd(7)} ${r.case}${r.verdict.reason ? `: ${r.verdict.reason}` : ''}`;
}

/** Lines folded under a title in the Actions log. */
export function group(title: string, lines: readonly string[]): string {
  return [`::group::${escapeData(title)}`, ...lines, '::endgroup::'].join('\n');
}

/** A workflow command (`::error file=…,title=…::message`) with GitHub's escaping of the message and of each property. */
export function workflowCommand(kind: 'error' | 'warning' | 'notice', message: string, props: Readonly<Record<string, string>> = {}): string {
  const list = Object.entries(props).map(([k, v]) => `${k}=${escapeProperty(v)}`).join(',');
  return `::${kind}${list ? ` ${list}` : ''}::${escapeData(message)}`;
}

// As the runner's command parser unescapes them (@actions/core's toCommandValue rules).
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'plan' && args.length === 0) return plan();
  if (command === 'merge' && args.length === 2) return merge(resolve(args[0] as string), resolve(args[1] as string));
  console.error('usage: ci-matrix.ts plan | merge ARTIFACTS_DIR OUT_DIR');
  return 2;
}

// Run as a script; imported (by the unit test) it only exports its helpers.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = await main();
