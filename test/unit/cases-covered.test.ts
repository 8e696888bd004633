import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCaseSet } from '../../harness/case/sets.ts';
import { casesProject } from '../../harness/vitest/project.ts';

// Every case file runs somewhere: the `cases` vitest project (npm test) runs
// it, it is in a case set that `npm start` or an integration test runs, or the
// matrix names it. A case nothing runs is a check that can never fail.
const CASES_DIR = join(REPO_ROOT, 'cases');
const INTEGRATION = join(REPO_ROOT, 'test', 'integration');

async function caseNames(): Promise<string[]> {
  return (await readdir(CASES_DIR)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
}

/** Case names anywhere under a `cases` key of the matrix file. */
function matrixCases(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(matrixCases);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => (key === 'cases' && Array.isArray(v) ? v.filter((c): c is string => typeof c === 'string') : matrixCases(v)));
}

/** Sets an integration test loads by name (`loadCaseSet(…, 'name')`); `default` is what `npm start` runs. */
async function setsRun(): Promise<string[]> {
  const names = new Set(['default']);
  for (const file of await readdir(INTEGRATION)) {
    const text = await readFile(join(INTEGRATION, file), 'utf8');
    for (const match of text.matchAll(/loadCaseSet\([^,]+,\s*'([^']+)'\)/g)) if (match[1]) names.add(match[1]);
  }
  return [...names];
}

/** Case names the `cases` vitest project collects as test files (its include globs are `<dir>/*.json`). */
async function casesProjectRuns(): Promise<string[]> {
  const names: string[] = [];
  for (const glob of casesProject().test?.include ?? []) {
    const dir = /^(.+)\/\*\.json$/.exec(glob)?.[1];
    if (dir === undefined) throw new Error(`teach this test the cases project's include glob '${glob}'`);
    names.push(...(await readdir(join(REPO_ROOT, dir))).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)));
  }
  return names;
}

describe('every case file runs somewhere', () => {
  it('the cases project runs the case files in cases/', async () => {
    expect((await casesProjectRuns()).sort()).toEqual((await caseNames()).sort());
  });

  it('each case is run by the cases project, in a set that runs, or in the matrix', async () => {
    const sets = await setsRun();
    const covered = new Set<string>([...matrixCases(JSON.parse(await readFile(join(CASES_DIR, 'matrix', 'matrix.json'), 'utf8'))), ...(await casesProjectRuns())]);
    for (const set of sets) for (const name of await loadCaseSet(CASES_DIR, set)) covered.add(name);
    const orphans = (await caseNames()).filter((name) => !covered.has(name));
    expect(orphans, `case files no set, test or matrix runs: ${orphans.join(', ')}`).toEqual([]);
  });

  it('every set file is run by npm start or an integration test, or holds only cases the cases project runs', async () => {
    const sets = (await readdir(join(CASES_DIR, 'sets'))).map((f) => f.replace(/\.json$/, ''));
    const run = await setsRun();
    const tested = new Set(await casesProjectRuns());
    const unrun: string[] = [];
    for (const set of sets.filter((s) => !run.includes(s))) if (!(await loadCaseSet(CASES_DIR, set)).every((name) => tested.has(name))) unrun.push(set);
    expect(unrun).toEqual([]);
  });
});
