import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySeries, PatchApplyError, type AppliedPatch } from '../../harness/source/apply.ts';
import { UnsafeSeriesPathError } from '../../harness/source/diff-paths.ts';
import { checkBaseCommit, localTreeState, resolveGitCommit } from '../../harness/source/git.ts';
import { loadSeries, SeriesError, type Series } from '../../harness/source/series.ts';
import { buildNotes } from '../../harness/qemu-build/notes.ts';

/*
 * Real git and real GNU patch on throwaway trees: a repository holds "master",
 * `git format-patch --base` makes the series, and the trees it is applied to
 * are master's files changed the way a release differs from master.
 */
let scratch: string;
let repo: string;
let baseSha: string;
let seriesDir: string;

/** f.c: 60 distinct lines; the series changes line 20 (hunk #1) and line 50 (hunk #2). */
const masterLines = Array.from({ length: 60 }, (_, i) => `line ${i + 1}`);
const text = (lines: readonly string[]) => `${lines.join('\n')}\n`;

async function git(cwd: string, ...args: string[]) {
  return execa('git', ['-c', 'user.name=Test', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', ...args], { cwd });
}

/** master's f.c with `edit` applied to its lines (1-based line numbers of master). */
function variant(edit: (lines: string[]) => void): string {
  const lines = [...masterLines];
  edit(lines);
  return text(lines);
}

/** A plain tree (not a git repository) like master, with `fc` as f.c. */
async function treeWith(name: string, fc: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'f.c'), fc);
  await writeFile(join(dir, 'old.txt'), 'keep\n');
  return dir;
}

/** Every file under `dir` with its content, for "the tree is untouched" checks. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[join(entry.parentPath, entry.name).slice(dir.length + 1)] = await readFile(join(entry.parentPath, entry.name), 'latin1');
  }
  return out;
}

async function applyTo(tree: string, series?: Series): Promise<AppliedPatch[]> {
  return applySeries(series ?? (await loadSeries(seriesDir)), tree, { sourceLabel: 'qemu 10.2.2' });
}

async function refusal(tree: string, series?: Series): Promise<PatchApplyError> {
  const error = await applyTo(tree, series).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PatchApplyError);
  return error as PatchApplyError;
}

/** What master + the series gives, with a release's own differences `edit` kept. */
function expectedAfterSeries(edit: (lines: string[]) => void): string {
  return variant((lines) => {
    edit(lines);
    const at20 = lines.indexOf('line 20');
    lines[at20] = 'line 20 changed';
    const at50 = lines.indexOf('line 50');
    lines[at50] = 'line 50 changed';
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'apply-test-'));
  repo = join(scratch, 'repo');
  await mkdir(repo);
  await writeFile(join(repo, 'f.c'), text(masterLines));
  await writeFile(join(repo, 'old.txt'), 'keep\n');
  await git(repo, 'init', '-q');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'master');
  baseSha = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
  await writeFile(join(repo, 'f.c'), variant((l) => {
    l[19] = 'line 20 changed';
    l[49] = 'line 50 changed';
  }));
  await writeFile(join(repo, 'added.sh'), '#!/bin/sh\necho added\n');
  await chmod(join(repo, 'added.sh'), 0o755);
  await git(repo, 'mv', 'old.txt', 'new.txt');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'change f.c, add a script, rename old.txt');
  seriesDir = join(scratch, 'series');
  await git(repo, 'format-patch', '-q', `--base=${baseSha}`, '-o', seriesDir, 'HEAD~1..HEAD');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('applying a series that fits exactly', () => {
  it('uses git apply and reports nothing', async () => {
    const tree = await treeWith('exact', text(masterLines));
    expect(await applyTo(tree)).toEqual([{ patch: '0001-change-f.c-add-a-script-rename-old.txt.patch', tool: 'git apply', mode: 'exact', hunks: [] }]);
    expect(await readFile(join(tree, 'f.c'), 'utf8')).toBe(expectedAfterSeries(() => {}));
  });
});

describe('applying a series whose hunks moved', () => {
  it('reports each hunk with its offset', async () => {
    const fiveMore = (l: string[]) => l.unshift('extra 1', 'extra 2', 'extra 3', 'extra 4', 'extra 5');
    const tree = await treeWith('offset', variant(fiveMore));
    const [applied] = await applyTo(tree);
    expect(applied).toMatchObject({ tool: 'git apply', mode: 'offset' });
    expect(applied?.hunks).toEqual([
      { file: 'f.c', hunk: 1, line: 22, offset: 5, fuzz: 0 },
      { file: 'f.c', hunk: 2, line: 52, offset: 5, fuzz: 0 },
    ]);
    expect(await readFile(join(tree, 'f.c'), 'utf8')).toBe(expectedAfterSeries(fiveMore));
  });

  it('reports a negative offset when the release has fewer lines before the hunk', async () => {
    const threeFewer = (l: string[]) => l.splice(0, 3);
    const tree = await treeWith('offset-negative', variant(threeFewer));
    const [applied] = await applyTo(tree);
    expect(applied?.hunks.map((h) => [h.hunk, h.offset, h.fuzz])).toEqual([[1, -3, 0], [2, -3, 0]]);
  });
});

describe('applying a series whose context differs', () => {
  it('applies with fuzz 1 when an outer context line differs, and with fuzz 2 for the next one in', async () => {
    // Hunk #1's context is lines 17-19 and 21-23; hunk #2's is 47-49 and 51-53.
    const release = (l: string[]) => {
      l[16] = 'line 17 renamed in the release';
      l[47] = 'line 48 renamed in the release';
      l.unshift('extra 1', 'extra 2');
    };
    const tree = await treeWith('fuzz', variant(release));
    const [applied] = await applyTo(tree);
    expect(applied).toMatchObject({ tool: 'patch', mode: 'fuzz' });
    expect(applied?.hunks).toEqual([
      { file: 'f.c', hunk: 1, line: 19, offset: 2, fuzz: 1 },
      { file: 'f.c', hunk: 2, line: 49, offset: 2, fuzz: 2 },
    ]);
    expect(await readFile(join(tree, 'f.c'), 'utf8')).toBe(expectedAfterSeries(release));
  });

  it('applies new files (with their mode) and renames of the same patch too, and leaves no .orig or .rej', async () => {
    const release = (l: string[]) => {
      l[22] = 'line 23 renamed in the release';
    };
    const tree = await treeWith('fuzz-files', variant(release));
    const [applied] = await applyTo(tree);
    expect(applied?.tool).toBe('patch');
    expect(applied?.hunks).toEqual([{ file: 'f.c', hunk: 1, line: 17, offset: 0, fuzz: 1 }]);
    expect(Object.keys(await snapshot(tree)).sort()).toEqual(['added.sh', 'f.c', 'new.txt']);
    expect((await stat(join(tree, 'added.sh'))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(tree, 'new.txt'), 'utf8')).toBe('keep\n');
  });
});

describe('refusing a series that does not fit', () => {
  it('names the file and the hunk whose changed line differs, and leaves the tree untouched', async () => {
    const tree = await treeWith('conflict', variant((l) => {
      l[49] = 'line 50 changed differently in the release';
    }));
    const before = await snapshot(tree);
    const error = await refusal(tree);
    expect(error.patch).toBe('0001-change-f.c-add-a-script-rename-old.txt.patch');
    expect(error.files).toEqual(['f.c']);
    expect(error.failures).toEqual([{ file: 'f.c', hunk: 2, line: 47, reason: 'does not fit even with fuzz 2' }]);
    expect(error.oneLine()).toBe(
      'patch 0001-change-f.c-add-a-script-rename-old.txt.patch does not apply to qemu 10.2.2: f.c: hunk #2 (line 47) does not fit even with fuzz 2; ' +
        `rebase the series (${join(seriesDir, '0001-change-f.c-add-a-script-rename-old.txt.patch')}) onto that source, or pick the matching --source`,
    );
    expect(await snapshot(tree)).toEqual(before);
  });

  it('refuses a hunk that would need more than fuzz 2', async () => {
    // The context line next to the change: ignoring two of three context lines is not enough.
    const tree = await treeWith('fuzz-3', variant((l) => {
      l[18] = 'line 19 renamed in the release';
    }));
    const before = await snapshot(tree);
    expect((await refusal(tree)).failures).toEqual([{ file: 'f.c', hunk: 1, line: 17, reason: 'does not fit even with fuzz 2' }]);
    expect(await snapshot(tree)).toEqual(before);
  });

  it('names a file the tree lacks', async () => {
    const tree = await treeWith('missing', text(masterLines));
    await rm(join(tree, 'f.c'));
    const error = await refusal(tree);
    expect(error.failures).toEqual([{ file: 'f.c', reason: 'no such file in the tree' }]);
    expect(error.message).toContain('qemu 10.2.2: f.c: no such file in the tree');
    expect(await snapshot(tree)).toEqual({ 'old.txt': 'keep\n' });
  });

  it('refuses a series that is already applied', async () => {
    const tree = await treeWith('twice', text(masterLines));
    await applyTo(tree);
    const before = await snapshot(tree);
    const error = await refusal(tree);
    expect(error.failures).toContainEqual({ file: 'added.sh', reason: 'the file to create already exists' });
    expect(error.failures).toContainEqual({ file: 'f.c', reason: 'already applied, or the change is reversed' });
    expect(await snapshot(tree)).toEqual(before);
  });

  it('refuses a binary change that does not apply exactly, naming the binary file', async () => {
    const binRepo = join(scratch, 'bin-repo');
    await mkdir(binRepo);
    await writeFile(join(binRepo, 'blob.bin'), Buffer.from([0, 1, 2, 3]));
    await writeFile(join(binRepo, 'f.c'), text(masterLines));
    await git(binRepo, 'init', '-q');
    await git(binRepo, 'add', '-A');
    await git(binRepo, 'commit', '-q', '-m', 'base');
    await writeFile(join(binRepo, 'blob.bin'), Buffer.from([0, 1, 2, 4]));
    await writeFile(join(binRepo, 'f.c'), variant((l) => (l[19] = 'line 20 changed')));
    await git(binRepo, 'commit', '-q', '-am', 'binary and text');
    const dir = join(scratch, 'bin-series');
    await git(binRepo, 'format-patch', '-q', '--binary', '-o', dir, 'HEAD~1..HEAD');

    const tree = await treeWith('binary', variant((l) => (l[16] = 'line 17 renamed in the release')));
    await writeFile(join(tree, 'blob.bin'), Buffer.from([0, 1, 2, 3]));
    const before = await snapshot(tree);
    const error = await refusal(tree, await loadSeries(dir));
    expect(error.failures).toEqual([{ file: 'blob.bin', reason: 'binary change, which only applies exactly' }]);
    expect(await snapshot(tree)).toEqual(before);
  });
});

describe('the fuzzy path stays inside the tree', () => {
  /** A patch by hand (git format-patch cannot write these): `..` and an absolute path. */
  async function handSeries(name: string, diff: string): Promise<Series> {
    const dir = join(scratch, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '0001-evil.patch'), `From: x\nSubject: [PATCH] evil\n\n---\n${diff}`);
    return loadSeries(dir);
  }

  it('refuses a file name that climbs out of the tree: loading names the patch and line; applying a series made otherwise refuses too, before any file', async () => {
    const tree = await treeWith('escape', text(masterLines));
    const diff = 'diff --git a/../escaped.txt b/../escaped.txt\nnew file mode 100644\n--- /dev/null\n+++ b/../escaped.txt\n@@ -0,0 +1 @@\n+out\n';
    await expect(handSeries('escape-series', diff)).rejects.toThrow(/^patch 0001-evil\.patch line 5: names '\.\.\/escaped\.txt', whose '\.\.' leaves the tree$/);
    const content = Buffer.from(`From: x\nSubject: [PATCH] evil\n\n---\n${diff}`);
    const made: Series = { path: tree, format: 'dir', patches: [{ name: '0001-evil.patch', origin: 'hand', sha256: '', content }], skipped: [], hash: '', paths: [], baseCommit: null };
    const before = await snapshot(tree);
    await expect(applyTo(tree, made)).rejects.toThrow(UnsafeSeriesPathError);
    expect(await snapshot(tree)).toEqual(before);
    await expect(stat(join(scratch, 'escaped.txt'))).rejects.toThrow();
  });

  it('does not write through a symbolic link that leads out of the tree', async () => {
    const outside = join(scratch, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'f.c'), text(masterLines));
    const tree = await treeWith('symlinked', text(masterLines));
    await symlink(outside, join(tree, 'linked'));
    const series = await handSeries('symlink-series', 'diff --git a/linked/f.c b/linked/f.c\n--- a/linked/f.c\n+++ b/linked/f.c\n@@ -18,5 +18,5 @@\n line 18\n line 19\n-line 20\n+line 20 changed\n line 21\n line 22\n');
    await expect(applyTo(tree, series)).rejects.toThrow(/linked\/f\.c/);
    expect(await readFile(join(outside, 'f.c'), 'utf8')).toBe(text(masterLines));
  });
});

describe('base-commit', () => {
  it('is read from the first patch, or from the cover letter', async () => {
    expect((await loadSeries(seriesDir)).baseCommit).toBe(baseSha);
    const withCover = join(scratch, 'series-cover');
    await git(repo, 'format-patch', '-q', '--cover-letter', `--base=${baseSha}`, '-o', withCover, 'HEAD~1..HEAD');
    const patchText = await readFile(join(withCover, '0001-change-f.c-add-a-script-rename-old.txt.patch'), 'utf8');
    expect(patchText).not.toContain('base-commit:');
    expect((await loadSeries(withCover)).baseCommit).toBe(baseSha);
  });

  it('is null without a trailer, and two different ones are refused', async () => {
    const plain = join(scratch, 'series-plain');
    await git(repo, 'format-patch', '-q', '-o', plain, 'HEAD~1..HEAD');
    expect((await loadSeries(plain)).baseCommit).toBeNull();

    const mixed = join(scratch, 'series-mixed');
    await git(repo, 'format-patch', '-q', '--cover-letter', `--base=${baseSha}`, '-o', mixed, 'HEAD~1..HEAD');
    const patch = join(mixed, '0001-change-f.c-add-a-script-rename-old.txt.patch');
    await writeFile(patch, `${await readFile(patch, 'utf8')}\nbase-commit: ${'a'.repeat(40)}\n`);
    const error = await loadSeries(mixed).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SeriesError);
    expect((error as SeriesError).message).toMatch(new RegExp(`names two base commits: ${baseSha} \\(0000-cover-letter.patch\\) and a{40} \\(0001-`));
  });

  it('matches a git source at that commit and warns about another commit', async () => {
    const url = `file://${repo}`;
    const atBase = await resolveGitCommit(url, baseSha);
    expect(checkBaseCommit(baseSha, { spec: `git:${url}#${baseSha}`, kind: 'git', version: atBase })).toMatchObject({ status: 'match', sourceCommit: baseSha });
    const head = await resolveGitCommit(url, 'main');
    const other = checkBaseCommit(baseSha, { spec: `git:${url}#main`, kind: 'git', version: head });
    expect(other).toMatchObject({ status: 'mismatch', sourceCommit: head });
    expect(other.summary).toBe(`the series was made against base-commit ${baseSha.slice(0, 12)}, but git:${url}#main is at ${head.slice(0, 12)}`);
  });

  it('checks a local git tree by HEAD, says when it has local changes, and cannot check a tarball or a plain tree', async () => {
    const checkout = join(scratch, 'checkout');
    await git(scratch, 'clone', '-q', repo, checkout);
    await git(checkout, 'checkout', '-q', baseSha);
    const clean = await localTreeState(checkout);
    expect(checkBaseCommit(baseSha, { spec: checkout, kind: 'dir', version: clean.version }).status).toBe('match');
    await writeFile(join(checkout, 'f.c'), 'local edit\n');
    const dirty = await localTreeState(checkout);
    expect(checkBaseCommit(baseSha, { spec: checkout, kind: 'dir', version: dirty.version })).toMatchObject({ status: 'dirty', sourceCommit: baseSha });

    const plain = await localTreeState(await treeWith('plain-for-base', text(masterLines)));
    expect(checkBaseCommit(baseSha, { spec: 'plain', kind: 'dir', version: plain.version }).status).toBe('unknown');
    const debian = checkBaseCommit(baseSha, { spec: 'debian:qemu=1:10.2.2+ds-1', kind: 'debian', version: '1:10.2.2+ds-1' });
    expect(debian).toEqual({ baseCommit: baseSha, status: 'unknown', summary: `the series names base-commit ${baseSha.slice(0, 12)}; debian:qemu=1:10.2.2+ds-1 is a Debian tarball, so that cannot be checked` });
  });
});

describe('what build prints', () => {
  it('names every moved hunk, warns about fuzz and a base mismatch', async () => {
    const tree = await treeWith('notes', variant((l) => {
      l[16] = 'line 17 renamed in the release';
      l.unshift('extra');
    }));
    const applied = await applyTo(tree);
    const base = checkBaseCommit(baseSha, { spec: 'git:x#y', kind: 'git', version: 'b'.repeat(40) });
    expect(buildNotes({ applied, base })).toEqual([
      'WARNING: 0001-change-f.c-add-a-script-rename-old.txt.patch (patch): f.c hunk #1 applied at line 18 with fuzz 1 (offset +1 line)',
      'note: 0001-change-f.c-add-a-script-rename-old.txt.patch (patch): f.c hunk #2 applied at line 48 (offset +1 line)',
      'WARNING: 1 hunk applied with fuzz (context lines ignored): check it in the source before trusting this build',
      `WARNING: the series was made against base-commit ${baseSha.slice(0, 12)}, but git:x#y is at ${'b'.repeat(12)}`,
    ]);
  });

  it('says nothing for an exact build without a base, or an entry recorded before fuzz reporting', () => {
    expect(buildNotes({ applied: [{ patch: 'p', tool: 'git apply', mode: 'exact', hunks: [] }], base: null })).toEqual([]);
    expect(buildNotes({ base: null })).toEqual([]);
  });
});
