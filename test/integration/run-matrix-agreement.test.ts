import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { loadCases } from '../../harness/case/load.ts';
import { planMatrix } from '../../harness/matrix/expand.ts';
import { allCaseNames } from '../../harness/matrix/execute.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { decodeRows, ROWS_FILE } from '../../harness/matrix/report.ts';
import { CASES_DIR, REPO_ROOT } from '../../harness/util/paths.ts';
import { integrationTest as test } from './fixtures.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * One case, one revision, one verdict, whatever the command: every
 * (case, revision, firmware) of the matrix's default subset goes through
 * `memmap-harness run` (the way a user asks for one revision) and through
 * `memmap-harness matrix --subset default`, on real QEMU builds and guests,
 * and the two must agree. Issue 10: `run --patches …/v6 --case seed-reserved`
 * used to expect v5's SRAT row of the reserved node while the matrix did not.
 */
const MINUTES = 60_000;
const def = await loadMatrix();
const plan = planMatrix(def, { allCases: await allCaseNames(), subset: 'default' });
const cases = new Map((await loadCases(CASES_DIR, [...new Set(plan.cells.flatMap((c) => c.cases))])).map((c) => [c.name, c]));

interface JsonVerdict {
  name: string;
  status: string;
  reason?: string;
  findings: { check: string; ok: boolean }[];
}

/** status, and the checks that failed: what a verdict says. */
const said = (v: JsonVerdict) => ({ status: v.status, failed: v.findings.filter((f) => !f.ok).map((f) => f.check) });

describe('run and a matrix cell agree', () => {
  test('on every (case, revision, firmware) of the default subset', async ({ workDir, cli }) => {
    const matrixDir = join(workDir, 'matrix');
    const matrix = await cli(['matrix', '--subset', 'default', '--results', matrixDir], 30 * MINUTES);
    const rows = decodeRows(await readFile(join(matrixDir, ROWS_FILE), 'utf8')).rows;
    expect(rows.length, matrix.all).toBe(plan.cells.reduce((n, c) => n + c.cases.length, 0));
    let compared = 0;
    for (const { name, cell, cases: names } of plan.cells) {
      // `run` has no --machine or --backend: the subset's cells use the cases' own.
      for (const c of names) expect([cases.get(c)?.machine, cases.get(c)?.nodes[1]?.backend]).toEqual([cell.machine, cell.backend]);
      const series = def.revisions[cell.revision]?.series ?? null;
      const json = join(workDir, `${name}.json`);
      const run = await cli(
        ['run', ...(series === null ? ['--no-patches'] : ['--patches', join(REPO_ROOT, series)]), ...names.flatMap((c) => ['--case', c]), '--firmware', cell.firmware, '--kernel', cell.kernel, '--results', join(workDir, `run-${name}`), '--json', json],
        20 * MINUTES,
      );
      const verdicts = (JSON.parse(await readFile(json, 'utf8')) as { cases: JsonVerdict[] }).cases;
      expect(verdicts.map((v) => v.name), run.all).toEqual(names);
      for (const verdict of verdicts) {
        const row = rows.find((r) => r.cell === name && r.case === verdict.name);
        expect(row, `${name} ${verdict.name}`).toBeDefined();
        expect(said(verdict), `run: ${verdict.name} on ${name}\n${run.all}`).toEqual(said(row!.verdict as unknown as JsonVerdict));
        compared += 1;
      }
    }
    expect(compared).toBe(rows.length);
  }, scaledMs(60 * MINUTES));

  test('and both give each case the verdict it should have', async ({ workDir }) => {
    const rows = decodeRows(await readFile(join(workDir, 'matrix', ROWS_FILE), 'utf8')).rows;
    const verdicts = rows.map((r) => `${r.cell} ${r.case}: ${r.verdict.status}`);
    const memmapType = (c: string) => cases.get(c)?.nodes.some((n) => n.memmapType !== undefined) ?? false;
    const wanted = rows.map((r) => `${r.cell} ${r.case}: ${r.axes.revision === 'baseline' && memmapType(r.case) ? 'unsupported' : 'pass'}`);
    expect(verdicts).toEqual(wanted);
    expect(rows.every((r) => r.outcome === 'pass')).toBe(true);
  });
});
