import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { ensureQemu } from '../../harness/qemu-build/qemu.ts';
import { isKernelId } from '../../harness/image/kernel.ts';
import { planMatrix } from '../../harness/matrix/expand.ts';
import { allCaseNames } from '../../harness/matrix/execute.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { decodeRows, ROWS_FILE, SUMMARY_FILE } from '../../harness/matrix/report.ts';
import type { MatrixRow } from '../../harness/matrix/row.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * The matrix's `test` subset on real QEMU, through the CLI as CI runs it:
 * every kernel, firmware and machine boots at least once (about ten boots; a
 * few minutes on two shared cores, longer the first time the minimal kernel is
 * built). Then the pieces the GitHub workflow calls: `cell`, `images`,
 * scripts/ci-matrix.ts merge and scripts/ci-cache-key.ts.
 */
const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const MINUTES = 60_000;
const def = await loadMatrix();
const subset = planMatrix(def, { allCases: await allCaseNames(), subset: 'test', unavailable: (axis, v) => (axis === 'kernel' && !isKernelId(v) ? 'unknown' : undefined) });

let work: string;
let results: string;
let stepSummary: string;
let run: Result<{ reject: false; all: true }>;
let rows: MatrixRow[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-matrix-test-'));
  results = join(work, 'results');
  stepSummary = join(work, 'step-summary.md');
  // As in CI: no TTY (one progress line per run), a job summary file.
  run = await execa('node', [CLI, 'matrix', '--subset', 'test', '--results', results], {
    cwd: REPO_ROOT,
    env: { GITHUB_STEP_SUMMARY: stepSummary },
    reject: false,
    all: true,
    timeout: scaledMs(50 * MINUTES),
  });
  rows = decodeRows(await readFile(join(results, ROWS_FILE), 'utf8')).rows;
}, scaledMs(55 * MINUTES));

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('memmap-harness matrix --subset test', () => {
  it('exits 0: every row is what its cell expects', () => {
    const notPass = rows.filter((r) => r.outcome !== 'pass').map((r) => `${r.outcome} ${r.cell} ${r.case}: ${r.verdict.reason ?? ''} ${r.verdict.findings.filter((f) => !f.ok).map((f) => f.check).join(', ')}`);
    expect(notPass, run.all).toEqual([]);
    expect(run.exitCode, run.all).toBe(0);
    expect(rows).toHaveLength(subset.cells.reduce((n, c) => n + c.cases.length, 0));
  });

  it('booted every kernel, every firmware and both machines, over both transports, for every revision', () => {
    const booted = rows.filter((r) => r.verdict.status === 'pass' && r.verdict.e820.length > 0);
    const seen = (axis: 'kernel' | 'firmware' | 'machine' | 'transport' | 'revision') => new Set(booted.map((r) => r.axes[axis]));
    expect(seen('kernel')).toEqual(new Set(def.axes.kernel.filter(isKernelId)));
    expect(seen('firmware')).toEqual(new Set(def.axes.firmware));
    expect(seen('machine')).toEqual(new Set(['q35', 'pc']));
    expect(seen('transport')).toEqual(new Set(['unix', 'websocket']));
    expect(seen('revision')).toEqual(new Set(['v5', 'v6', 'baseline', 'upstream-11.1']));
    // The baseline's spm row is the expected "unsupported", not a boot.
    expect(rows.find((r) => r.axes.revision === 'baseline' && r.case === 'seed-spm')?.verdict.status).toBe('unsupported');
  });

  it('said how many guests it runs at once and why, and printed a line per finished run', () => {
    expect(run.stdout).toMatch(/^jobs: \d+ \(\d+ core\(s\) → at most \d+ .* GiB free/m);
    expect(run.stdout).toContain(`matrix: ${subset.cells.length} cell(s), ${rows.length} run(s)`);
    expect(run.stderr.split('\n').filter((l) => /^\[\s*\d+\/\d+\] /.test(l))).toHaveLength(rows.length);
  });

  it('wrote the reports for the whole subset, and the summary renders as a table with a row per cell', async () => {
    const files = await readdir(results);
    expect(files).toEqual(expect.arrayContaining(['report.json', 'junit.xml', 'summary.md', 'svg', SUMMARY_FILE, ROWS_FILE, 'cells']));
    expect(await readdir(join(results, 'cells'))).toEqual(expect.arrayContaining(subset.cells.map((c) => c.name)));
    const md = await readFile(join(results, SUMMARY_FILE), 'utf8');
    const table = md.split('\n').filter((l) => l.startsWith('| '));
    expect(table).toHaveLength(subset.cells.length + 2);
    expect(await readFile(stepSummary, 'utf8')).toContain(md.split('\n')[0] as string);
  });
});

describe('what the workflow calls besides', () => {
  it("ci-matrix.ts merge joins cell results into the matrix's reports and names missing cells", async () => {
    const artifacts = join(work, 'artifacts');
    await mkdir(join(artifacts, 'cell-all'), { recursive: true });
    await copyFile(join(results, ROWS_FILE), join(artifacts, 'cell-all', ROWS_FILE));
    const planned = subset.cells.map((c) => ({ name: c.name, revision: c.cell.revision }));
    const merge = (cells: unknown, out: string) =>
      execa('npx', ['tsx', join(REPO_ROOT, 'scripts', 'ci-matrix.ts'), 'merge', artifacts, out], { cwd: REPO_ROOT, env: { PLANNED_CELLS: JSON.stringify(cells), GITHUB_STEP_SUMMARY: join(work, 'merge-summary.md') }, reject: false, timeout: scaledMs(2 * MINUTES) });
    const ok = await merge(planned, join(work, 'merged'));
    expect(ok.exitCode, `${ok.stdout}\n${ok.stderr}`).toBe(0);
    expect(decodeRows(await readFile(join(work, 'merged', ROWS_FILE), 'utf8')).rows).toHaveLength(rows.length);
    const gap = await merge([...planned, { name: 'v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', revision: 'v5' }], join(work, 'merged-gap'));
    expect(gap.exitCode).toBe(1);
    expect(gap.stdout).toContain('missing cells: v5.pc.ovmf-sid.bookworm-6.1.memfd.unix');
    expect(await readFile(join(work, 'merged-gap', SUMMARY_FILE), 'utf8')).toContain('its job left no results');
  }, scaledMs(5 * MINUTES));

  it('cell NAME reproduces one cell from its name', async () => {
    const name = subset.cells.find((c) => c.cell.kernel === 'minimal-6.1')?.name ?? 'v5.q35.ovmf-sid.bookworm-6.1.memfd.unix';
    const out = join(work, 'one-cell');
    const cell = await execa('node', [CLI, 'cell', name, '--case', 'seed-spm', '--results', out], { cwd: REPO_ROOT, reject: false, all: true, timeout: scaledMs(15 * MINUTES) });
    expect(cell.exitCode, cell.all).toBe(0);
    const [row, ...rest] = decodeRows(await readFile(join(out, ROWS_FILE), 'utf8')).rows;
    expect(rest).toEqual([]);
    expect(row).toMatchObject({ cell: name, case: 'seed-spm', outcome: 'pass' });
  }, scaledMs(20 * MINUTES));

  it("ci-cache-key.ts computes, without building, the builder's own cache key of each revision", async () => {
    for (const revision of ['v5', 'v6', 'baseline']) {
      const series = def.revisions[revision]?.series ?? null;
      const { manifest } = await ensureQemu({ patches: series === null ? null : join(REPO_ROOT, series) });
      const key = await execa('npx', ['tsx', join(REPO_ROOT, 'scripts', 'ci-cache-key.ts'), '--revision', revision], { cwd: REPO_ROOT, timeout: scaledMs(2 * MINUTES) });
      expect(JSON.parse(key.stdout)).toEqual({ key: manifest.cacheKey, path: join(manifest.binary, '..', '..'), source: manifest.source.spec, buildArgs: series === null ? '--no-patches' : `--patches ${series}` });
    }
  }, scaledMs(10 * MINUTES));

  it('images fetches (here: finds in the cache) the guest images', async () => {
    const images = await execa('node', [CLI, 'images', '--kernel', 'bookworm-6.1', '--firmware', 'ovmf-sid', '--json'], { cwd: REPO_ROOT, timeout: scaledMs(10 * MINUTES) });
    const parsed = JSON.parse(images.stdout) as { kernels: { kernel: { id: string } }[]; firmware: { id: string }[] };
    expect(parsed.kernels.map((k) => k.kernel.id)).toEqual(['bookworm-6.1']);
    expect(parsed.firmware.map((f) => f.id)).toEqual(['ovmf-sid']);
  }, scaledMs(10 * MINUTES));
});
