import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCaseSet } from '../../harness/case/sets.ts';
import { casesProject } from '../../harness/vitest/project.ts';
import { caseConfigurations } from '../../harness/vitest/configurations.ts';
import { loadCase } from '../../harness/case/load.ts';
import { expectationsFor } from '../../harness/model/expectations.ts';

// Every case file is a test: the `cases` vitest project (npm test) collects each
// one. These tests make sure that stays true and that each case can fail: it checks
// something on some QEMU of the test bed, and the sets and the matrix that name cases
// name real ones.
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

describe('every case file is a test that can fail', () => {
  it('the cases project collects exactly the case files in cases/', async () => {
    expect((await casesProjectRuns()).sort()).toEqual((await caseNames()).sort());
  });

  // The cases project runs every file, so "is it run?" is settled above. What can still
  // make a case file vacuous is a test bed on which it never checks anything: every
  // configuration expected `unsupported` means the case only ever asserts that a QEMU
  // lacks the option. That is a fine test when the case says so (it names the revisions
  // it is about, like negative-baseline-memmap-type), and a defect when it does not.
  it('each case runs its checks on at least one test-bed configuration, unless it names only QEMUs that lack the option', async () => {
    const vacuous: string[] = [];
    for (const name of await caseNames()) {
      const spec = await loadCase(join(CASES_DIR, `${name}.json`));
      const kinds = caseConfigurations(spec).map((c) => expectationsFor(spec, { machine: spec.machine, firmware: c.firmware, kernel: spec.kernel, revision: c.revision }).kind);
      if (kinds.length === 0) vacuous.push(`${name}: no configuration`);
      else if (kinds.includes('underivable')) vacuous.push(`${name}: a configuration whose expectations cannot be derived`);
      else if (!kinds.includes('run') && spec.profiles === undefined) vacuous.push(`${name}: only ever expected unsupported`);
    }
    expect(vacuous, vacuous.join('\n')).toEqual([]);
  });

  it('every set and the matrix name only case files that exist, and no set is empty', async () => {
    const known = new Set(await caseNames());
    const problems: string[] = [];
    for (const file of await readdir(join(CASES_DIR, 'sets'))) {
      const set = file.replace(/\.json$/, '');
      const names = await loadCaseSet(CASES_DIR, set);
      if (names.length === 0) problems.push(`set ${set} is empty`);
      for (const name of names.filter((n) => !known.has(n))) problems.push(`set ${set} names ${name}, which has no case file`);
    }
    const inMatrix = matrixCases(JSON.parse(await readFile(join(CASES_DIR, 'matrix', 'matrix.json'), 'utf8')));
    if (inMatrix.length === 0) problems.push('the matrix names no case');
    for (const name of inMatrix.filter((n) => !known.has(n))) problems.push(`the matrix names ${name}, which has no case file`);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('npm start and the integration tests load only sets that exist', async () => {
    const sets = new Set((await readdir(join(CASES_DIR, 'sets'))).map((f) => f.replace(/\.json$/, '')));
    expect((await setsRun()).filter((s) => !sets.has(s))).toEqual([]);
  });
});
