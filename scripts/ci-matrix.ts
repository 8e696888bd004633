/**
 * The GitHub workflow's two matrix steps that are not a plain CLI call.
 *
 *   npx tsx scripts/ci-matrix.ts plan
 *       The cells to fan out, from cases/matrix/matrix.json with $MATRIX_SUBSET
 *       ("full" or a subset name) and $MATRIX_FILTER (space-separated
 *       `memmap-harness matrix --filter` expressions). Writes cells=[{name,
 *       revision}] and revisions=[…] to $GITHUB_OUTPUT (and prints them).
 *
 *   npx tsx scripts/ci-matrix.ts merge ARTIFACTS_DIR OUT_DIR
 *       Joins the matrix-rows.json of every cell job's artifact into the
 *       whole matrix's reports in OUT_DIR and the job summary. Cells listed in
 *       $PLANNED_CELLS (the plan's JSON) without results are named as missing.
 *       Exit 1 unless every planned row is as expected.
 */
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { allCaseNames, tally, unavailableHere } from '../harness/matrix/execute.ts';
import { parseFilter, planMatrix } from '../harness/matrix/expand.ts';
import { loadMatrix } from '../harness/matrix/load.ts';
import { decodeRows, ROWS_FILE, writeMatrixReports, writeStepSummary, type MatrixMeta } from '../harness/matrix/report.ts';
import type { MatrixRow } from '../harness/matrix/row.ts';

const [command, ...args] = process.argv.slice(2);
if (command === 'plan') process.exitCode = await plan();
else if (command === 'merge' && args.length === 2) process.exitCode = await merge(resolve(args[0] as string), resolve(args[1] as string));
else {
  console.error('usage: ci-matrix.ts plan | merge ARTIFACTS_DIR OUT_DIR');
  process.exitCode = 2;
}

async function plan(): Promise<number> {
  const def = await loadMatrix();
  const subset = process.env.MATRIX_SUBSET && process.env.MATRIX_SUBSET !== 'full' ? process.env.MATRIX_SUBSET : undefined;
  const filters = (process.env.MATRIX_FILTER ?? '').split(/\s+/).filter((f) => f.length > 0).map((f) => parseFilter(f, def));
  const { cells, unavailable } = planMatrix(def, { allCases: await allCaseNames(), unavailable: unavailableHere, subset, filters });
  for (const u of unavailable) console.error(`not planned: ${u.name}: ${u.reason}`);
  const out = { cells: cells.map((c) => ({ name: c.name, revision: c.cell.revision })), revisions: [...new Set(cells.map((c) => c.cell.revision))] };
  console.log(`${cells.length} cells (${cells.reduce((n, c) => n + c.cases.length, 0)} runs) for revisions ${out.revisions.join(', ')}`);
  if (process.env.GITHUB_OUTPUT) await appendFile(process.env.GITHUB_OUTPUT, `cells=${JSON.stringify(out.cells)}\nrevisions=${JSON.stringify(out.revisions)}\n`);
  else console.log(JSON.stringify(out));
  return cells.length > 0 ? 0 : 1;
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

export {};
