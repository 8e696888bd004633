import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySeries, PatchApplyError } from '../../harness/source/apply.ts';
import { comparePatchNames, containsDiff, loadSeries, mboxPatchName, seriesHash, SeriesError, subjectOf } from '../../harness/source/series.ts';

/*
 * Real patches only: a temp git repo with a fake QEMU file, commits, and
 * `git format-patch` output (with a cover letter), the way a series arrives.
 */
let scratch: string;
let repo: string;
let seriesDir: string;
let baseFiles: Record<string, string>;

const pcLines = Array.from({ length: 40 }, (_, i) => `/* pc.c line ${i + 1} */`);

async function git(cwd: string, ...args: string[]) {
  return execa('git', ['-c', 'user.name=Test', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', ...args], { cwd });
}

async function writeTree(dir: string, files: Record<string, string>) {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

async function commitEdit(path: string, edit: (text: string) => string, subject: string) {
  const text = await readFile(join(repo, path), 'utf8').catch(() => '');
  await writeTree(repo, { [path]: edit(text) });
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', subject);
}

/** A plain (non-git) copy of the base tree. */
async function baseTree(name: string): Promise<string> {
  const dir = join(scratch, name);
  await writeTree(dir, baseFiles);
  return dir;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'series-test-'));
  repo = join(scratch, 'repo');
  baseFiles = { 'hw/i386/pc.c': `${pcLines.join('\n')}\n`, 'VERSION': '10.2.2\n' };
  await writeTree(repo, baseFiles);
  await git(repo, 'init', '-q');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'base');
  await git(repo, 'tag', 'base');
  await commitEdit('hw/i386/pc.c', (t) => t.replace('line 10 */', 'line 10, typed */'), 'pc: change line 10');
  await commitEdit('docs/memmap.txt', () => 'memmap-type=normal|spm|reserved\n', 'docs: describe memmap-type');
  await commitEdit('hw/i386/pc.c', (t) => t.replace('line 30 */', 'line 30, typed */'), 'pc: change line 30');
  seriesDir = join(scratch, 'series');
  await git(repo, 'format-patch', '-q', '--cover-letter', '-o', seriesDir, 'base..HEAD');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('loadSeries from a directory', () => {
  it('orders patches by name and skips the cover letter', async () => {
    const series = await loadSeries(seriesDir);
    expect(series.format).toBe('dir');
    expect(series.patches.map((p) => p.name)).toEqual(['0001-pc-change-line-10.patch', '0002-docs-describe-memmap-type.patch', '0003-pc-change-line-30.patch']);
    expect(series.skipped).toEqual(['0000-cover-letter.patch']);
    expect(series.hash).toBe(seriesHash(series.patches));
  });

  it('compares numeric prefixes as numbers', () => {
    expect(['10-c.patch', '2-b.patch', '1-a.patch', 'x.patch'].sort(comparePatchNames)).toEqual(['1-a.patch', '2-b.patch', '10-c.patch', 'x.patch']);
  });

  it('fails with one line for a missing path or an empty directory', async () => {
    await expect(loadSeries(join(scratch, 'nope'))).rejects.toThrow(SeriesError);
    const empty = join(scratch, 'empty');
    await mkdir(empty, { recursive: true });
    await expect(loadSeries(empty)).rejects.toThrow(/no \*\.patch files/);
  });
});

describe('loadSeries from an mbox', () => {
  it('splits with git mailsplit, keeps mailbox order and names patches from their subjects', async () => {
    const names = (await readdir(seriesDir)).sort();
    const mbox = join(scratch, 'series.mbox');
    await writeFile(mbox, Buffer.concat(await Promise.all(names.map((n) => readFile(join(seriesDir, n))))));
    const series = await loadSeries(mbox);
    expect(series.format).toBe('mbox');
    expect(series.patches.map((p) => p.name)).toEqual(['0001-pc-change-line-10.patch', '0002-docs-describe-memmap-type.patch', '0003-pc-change-line-30.patch']);
    expect(series.skipped).toHaveLength(1);
    expect(series.patches[0]?.origin).toBe(`${mbox} message 2`);

    const tree = await baseTree('tree-from-mbox');
    await applySeries(series, tree, { sourceLabel: 'test' });
    expect(await readFile(join(tree, 'hw/i386/pc.c'), 'utf8')).toBe(await readFile(join(repo, 'hw/i386/pc.c'), 'utf8'));
  });

  it('reads subjects, folded or not, and names like format-patch', () => {
    expect(subjectOf('From: a\nSubject: [PATCH v5 1/3] numa: add\n \'memmap-type\' option\n\nbody')).toBe("[PATCH v5 1/3] numa: add 'memmap-type' option");
    expect(mboxPatchName(1, "[PATCH v5 1/3] numa: add 'memmap-type' option")).toBe('0001-numa-add-memmap-type-option.patch');
    expect(mboxPatchName(12, undefined)).toBe('0012.patch');
  });

  it('tells diffs from cover letters', () => {
    expect(containsDiff('Subject: [PATCH 0/3] cover\n\n*** BLURB HERE ***\n')).toBe(false);
    expect(containsDiff('diff --git a/x b/x\n')).toBe(true);
    expect(containsDiff('--- x.orig\n+++ x\n@@ -1 +1 @@\n-a\n+b\n')).toBe(true);
  });
});

describe('series hash', () => {
  it('is stable and changes with order, names and content', async () => {
    const series = await loadSeries(seriesDir);
    expect((await loadSeries(seriesDir)).hash).toBe(series.hash);
    const [a, b, c] = series.patches;
    if (!a || !b || !c) throw new Error('three patches expected');
    expect(seriesHash([b, a, c])).not.toBe(series.hash);
    expect(seriesHash([{ ...a, name: 'renamed.patch' }, b, c])).not.toBe(series.hash);

    const edited = join(scratch, 'series-edited');
    await cp(seriesDir, edited, { recursive: true });
    const target = join(edited, c.name);
    await writeFile(target, (await readFile(target, 'utf8')).replace('line 30, typed */', 'line 30, typed! */'));
    expect((await loadSeries(edited)).hash).not.toBe(series.hash);
  });
});

describe('applySeries', () => {
  it('applies in order to a tree that is not a git repository', async () => {
    const tree = await baseTree('tree-plain');
    await applySeries(await loadSeries(seriesDir), tree, { sourceLabel: 'test' });
    expect(await readFile(join(tree, 'hw/i386/pc.c'), 'utf8')).toBe(await readFile(join(repo, 'hw/i386/pc.c'), 'utf8'));
    expect(await readFile(join(tree, 'docs/memmap.txt'), 'utf8')).toBe('memmap-type=normal|spm|reserved\n');
  });

  it('applies to a tree nested inside another git repository', async () => {
    const tree = join(repo, 'nested', 'tree');
    await writeTree(tree, baseFiles);
    await applySeries(await loadSeries(seriesDir), tree, { sourceLabel: 'test' });
    expect(await readFile(join(tree, 'hw/i386/pc.c'), 'utf8')).toContain('line 30, typed */');
    await rm(join(repo, 'nested'), { recursive: true, force: true });
  });

  it('names the patch and the source file when a patch does not apply', async () => {
    // A second line of development whose change to line 10 conflicts with 0001.
    await git(repo, 'checkout', '-q', '-b', 'other', 'base');
    await commitEdit('hw/i386/pc.c', (t) => t.replace('line 10 */', 'line 10, other */'), 'pc: other line 10');
    const otherDir = join(scratch, 'other');
    await git(repo, 'format-patch', '-q', '-o', otherDir, 'base..HEAD');
    await git(repo, 'checkout', '-q', 'main');

    const mixed = join(scratch, 'mixed');
    await mkdir(mixed, { recursive: true });
    await cp(join(seriesDir, '0001-pc-change-line-10.patch'), join(mixed, '0001-pc-change-line-10.patch'));
    await cp(join(otherDir, '0001-pc-other-line-10.patch'), join(mixed, '0002-pc-other-line-10.patch'));
    const tree = await baseTree('tree-conflict');

    const error = await applySeries(await loadSeries(mixed), tree, { sourceLabel: 'qemu 10.2.2' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PatchApplyError);
    const failure = error as PatchApplyError;
    expect(failure.patch).toBe('0002-pc-other-line-10.patch');
    expect(failure.files).toEqual(['hw/i386/pc.c']);
    expect(failure.message).toBe('patch 0002-pc-other-line-10.patch does not apply to qemu 10.2.2: hw/i386/pc.c: hunk #1 (line 7) does not fit even with fuzz 2');
    expect(failure.oneLine()).not.toContain('\n');
    // Each patch applies all or nothing: 0001 is in, 0002 left no trace.
    const text = await readFile(join(tree, 'hw/i386/pc.c'), 'utf8');
    expect(text).toContain('line 10, typed */');
    expect(text).not.toContain('other');
  });

  it('names a file the tree lacks', async () => {
    const tree = await baseTree('tree-missing');
    await rm(join(tree, 'hw/i386/pc.c'));
    const error = await applySeries(await loadSeries(seriesDir), tree, { sourceLabel: 'x' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PatchApplyError);
    expect((error as PatchApplyError).patch).toBe('0001-pc-change-line-10.patch');
    expect((error as PatchApplyError).files).toEqual(['hw/i386/pc.c']);
  });
});
