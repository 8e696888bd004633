import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeReports, type ReportPaths } from '../report/write-all.ts';
import { exactReplacer, exactReviver } from '../util/exact-json.ts';
import { elapsed } from './progress.ts';
import type { MatrixRow, Outcome } from './row.ts';
import type { MatrixDefinition } from './types.ts';

/** How a run went as a whole, for the summary's header. */
export interface MatrixMeta {
  wallMs: number;
  jobs: number;
  jobsWhy: string;
  /** Cells the matrix defines that could not run here, with why. */
  unavailable: { name: string; reason: string }[];
  title?: string;
}

export interface MatrixReportPaths extends ReportPaths {
  rows: string;
  matrixSummary: string;
}

export const ROWS_FILE = 'matrix-rows.json';
export const SUMMARY_FILE = 'matrix-summary.md';

/** Writes every report for the rows: the shared ones (JSON, JUnit, Markdown, SVG) and the matrix's rows and grid summary. */
export async function writeMatrixReports(dir: string, def: MatrixDefinition, rows: readonly MatrixRow[], meta: MatrixMeta): Promise<MatrixReportPaths> {
  await mkdir(dir, { recursive: true });
  const shared = await writeReports(dir, rows.map((r) => r.verdict));
  const paths = { ...shared, rows: join(dir, ROWS_FILE), matrixSummary: join(dir, SUMMARY_FILE) };
  await writeFile(paths.rows, encodeRows(rows, meta));
  await writeFile(paths.matrixSummary, matrixMarkdown(def, rows, meta));
  return paths;
}

/** Appends the matrix summary (and the per-run details, folded) to $GITHUB_STEP_SUMMARY when it is set. */
export async function writeStepSummary(paths: MatrixReportPaths, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const target = env.GITHUB_STEP_SUMMARY;
  if (!target) return false;
  const details = await readFile(paths.markdown, 'utf8');
  const summary = await readFile(paths.matrixSummary, 'utf8');
  await appendFile(target, `${summary}\n<details><summary>Per-run details</summary>\n\n${details}\n</details>\n`);
  return true;
}

// Rows hold bigint addresses: JSON carries them as {"$bigint": "…"} and gets them back.
export function encodeRows(rows: readonly MatrixRow[], meta: MatrixMeta): string {
  return `${JSON.stringify({ meta, rows }, exactReplacer, 2)}\n`;
}

export function decodeRows(text: string): { meta: MatrixMeta; rows: MatrixRow[] } {
  return JSON.parse(text, exactReviver) as { meta: MatrixMeta; rows: MatrixRow[] };
}

const GLYPH: Record<Outcome, string> = { pass: '✅ pass', fail: '❌ FAIL', error: '💥 ERROR', changed: '⚠️ CHANGED' };

/** The grid: one line per cell, one column per case, then changes, problems and the per-axis reasons. */
export function matrixMarkdown(def: MatrixDefinition, rows: readonly MatrixRow[], meta: MatrixMeta): string {
  const cells = [...new Set(rows.map((r) => r.cell))];
  const cases = [...new Set(rows.map((r) => r.case))];
  const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
  const parts = [
    `## ${meta.title ?? 'memmap-harness matrix'}`,
    `**${cells.length} cells, ${rows.length} runs**: ${count('pass')} passed, ${count('fail')} failed, ${count('error')} errors, ${count('changed')} behaviour changes · wall time ${elapsed(meta.wallMs)} · ${meta.jobs} parallel guest(s)`,
  ];
  const changed = rows.filter((r) => r.outcome === 'changed');
  if (changed.length > 0) parts.push(`### ⚠️ Behaviour changed: update harness/traits/traits.json\n\n${changed.flatMap((r) => r.changes.map((c) => `- ${code(r.cell)} ${esc(r.case)}: ${esc(c)}`)).join('\n')}`);
  parts.push(grid(rows, cells, cases));
  const problems = rows.filter((r) => r.outcome === 'fail' || r.outcome === 'error');
  if (problems.length > 0) parts.push(`### Failures and errors\n\n${problems.map(problemLine).join('\n')}`);
  if (meta.unavailable.length > 0) parts.push(`### Not run here\n\n${meta.unavailable.map((u) => `- ${code(u.name)}: ${esc(u.reason)}`).join('\n')}`);
  parts.push(axisReasons(def, rows));
  return `${parts.join('\n\n')}\n`;
}

function grid(rows: readonly MatrixRow[], cells: string[], cases: string[]): string {
  const header = `| cell | ${cases.map(esc).join(' | ')} | expects |`;
  const rule = `| --- | ${cases.map(() => '---').join(' | ')} | --- |`;
  const lines = cells.map((cell) => {
    const statuses = cases.map((c) => {
      const row = rows.find((r) => r.cell === cell && r.case === c);
      if (!row) return '–';
      return row.outcome === 'pass' && row.verdict.status === 'unsupported' ? '✅ unsupported, as expected' : GLYPH[row.outcome];
    });
    const tags = [...new Set(rows.filter((r) => r.cell === cell).flatMap((r) => r.expected.tags ?? []))];
    return `| ${code(cell)} | ${statuses.join(' | ')} | ${esc(tags.join(', ') || 'normal RAM only')} |`;
  });
  return [header, rule, ...lines].join('\n');
}

function problemLine(r: MatrixRow): string {
  const failed = r.verdict.findings.filter((f) => !f.ok).map((f) => `${f.aspect}: ${f.check}`);
  const why = [r.verdict.reason, ...failed].filter((x): x is string => x !== undefined && x !== '').join('; ');
  const expected = r.expected.summary.length > 0 ? ` (expected: ${esc(r.expected.summary.join('; '))})` : '';
  return `- ${GLYPH[r.outcome]} ${code(r.cell)} ${esc(r.case)}${expected}: ${esc(why)}${r.verdict.serialLog ? ` — serial log ${code(r.verdict.serialLog)}` : ''}`;
}

/** The facts the expectations rest on, for the axis values these rows used. */
function axisReasons(def: MatrixDefinition, rows: readonly MatrixRow[]): string {
  const used = (axis: keyof MatrixRow['axes']) => [...new Set(rows.map((r) => r.axes[axis]))];
  const lines: string[] = [];
  for (const fw of used('firmware')) {
    const info = def.firmware[fw];
    if (info) lines.push(`- **${esc(fw)}**: spm ${info.passes.spm ? 'passed through' : 'dropped'} (${esc(info.reason.spm)}); reserved ${info.passes.reserved ? 'passed through' : 'dropped'}`);
  }
  for (const k of used('kernel')) {
    const info = def.kernels[k];
    if (info) lines.push(`- **${esc(k)}**: ${esc(info.reason)}`);
  }
  for (const r of used('revision')) {
    const info = def.revisions[r];
    if (info) lines.push(`- **${esc(r)}**: ${esc(info.reason)}`);
  }
  for (const m of used('machine')) {
    const info = def.machines[m];
    if (info) lines.push(`- **${esc(m)}**: ${esc(info.reason)}`);
  }
  lines.push(`- **backend**: ${esc(def.backends.reason)}`, `- **transport**: ${esc(def.transports.reason)}`);
  return `### What the expectations rest on (harness/traits/traits.json)\n\n${lines.join('\n')}`;
}

/** Text for a table cell or list item: Markdown punctuation escaped, one line. */
function esc(text: string): string {
  return text.replace(/[\\`*_[\]<>|#~]/g, (ch) => `\\${ch}`).replace(/\s*[\r\n]+\s*/g, ' ');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}
