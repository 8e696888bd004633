import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SOURCE_SPEC, parseSourceSpec, SourceSpecError } from '../../harness/source/spec.ts';
import { localTreeState, pickCommit, resolveGitCommit } from '../../harness/source/git.ts';
import { pickOrigTarball } from '../../harness/source/debian.ts';
import { ensurePristineTree, resolveSource } from '../../harness/source/fetch.ts';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'source-spec-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('parseSourceSpec', () => {
  it('parses the default Debian spec', () => {
    expect(parseSourceSpec(DEFAULT_SOURCE_SPEC)).toEqual({ kind: 'debian', text: 'debian:qemu=1:10.2.2+ds-1', package: 'qemu', version: '1:10.2.2+ds-1' });
  });

  it('parses git: specs, keeping a # inside the URL', () => {
    expect(parseSourceSpec('git:https://example.org/qemu.git#v10.2.2')).toMatchObject({ kind: 'git', url: 'https://example.org/qemu.git', ref: 'v10.2.2' });
    expect(parseSourceSpec('git:/srv/repos/qemu#stable-10.2')).toMatchObject({ kind: 'git', url: '/srv/repos/qemu', ref: 'stable-10.2' });
    expect(parseSourceSpec('git:https://h/x#y.git#main')).toMatchObject({ url: 'https://h/x#y.git', ref: 'main' });
  });

  it('accepts plain .git URLs with #ref', () => {
    expect(parseSourceSpec('https://example.org/qemu/qemu.git#a1b2c3')).toMatchObject({ kind: 'git', url: 'https://example.org/qemu/qemu.git', ref: 'a1b2c3' });
    expect(parseSourceSpec('git@example.org:qemu/qemu.git#master')).toMatchObject({ kind: 'git', url: 'git@example.org:qemu/qemu.git', ref: 'master' });
  });

  it('takes dir: and existing paths as local trees, resolved to absolute paths', async () => {
    const tree = join(scratch, 'tree');
    await mkdir(tree, { recursive: true });
    expect(parseSourceSpec(`dir:${tree}`)).toEqual({ kind: 'dir', text: `dir:${tree}`, path: tree });
    expect(parseSourceSpec('tree', scratch)).toMatchObject({ kind: 'dir', path: tree });
    expect(parseSourceSpec('dir:./tree', scratch)).toMatchObject({ kind: 'dir', path: tree });
  });

  it.each([
    ['', 'empty'],
    ['debian:qemu', 'PACKAGE=VERSION'],
    ['debian:=1.0', 'PACKAGE=VERSION'],
    ['git:https://example.org/qemu.git', '#REF'],
    ['https://example.org/qemu.git', '#REF'],
    ['git:#main', 'URL is empty'],
    ['dir:/no/such/dir/anywhere', 'not a directory'],
    ['/no/such/dir/anywhere', 'not a known form'],
    ['svn:whatever', 'not a known form'],
  ])('rejects %j with one line that says what to write', (text, why) => {
    let error: unknown;
    try {
      parseSourceSpec(text, scratch);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SourceSpecError);
    const line = (error as SourceSpecError).oneLine();
    expect(line).toContain(why);
    expect(line).toContain('debian:PACKAGE=VERSION');
    expect(line).not.toContain('\n');
  });
});

describe('pickCommit', () => {
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  it('prefers the peeled commit of an annotated tag', () => {
    expect(pickCommit(`${a}\trefs/tags/v1\n${b}\trefs/tags/v1^{}\n`, 'v1')).toBe(b);
  });
  it('takes a branch head as is', () => {
    expect(pickCommit(`${a}\trefs/heads/main\n`, 'main')).toBe(a);
  });
  it('returns undefined when nothing matches', () => {
    expect(pickCommit('', 'main')).toBeUndefined();
  });
});

describe('pickOrigTarball', () => {
  it('takes the main orig tarball, not the Debian one', () => {
    expect(pickOrigTarball(['qemu_10.2.2+ds-1.dsc', 'qemu_10.2.2+ds-1.debian.tar.xz', 'qemu_10.2.2+ds.orig.tar.xz'])).toBe('qemu_10.2.2+ds.orig.tar.xz');
    expect(pickOrigTarball(['x_1-1.dsc', 'x_1-1.tar.xz'])).toBeUndefined();
  });
});

describe('source identity', () => {
  async function git(cwd: string, ...args: string[]) {
    return execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd });
  }

  it('identifies a local git tree by HEAD, its diff and untracked files', async () => {
    const repo = join(scratch, 'repo');
    await mkdir(repo, { recursive: true });
    await git(repo, 'init', '-q');
    await writeFile(join(repo, 'a.c'), 'int a;\n');
    await git(repo, 'add', '.');
    await git(repo, 'commit', '-q', '-m', 'one');
    const head = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();

    const clean = await localTreeState(repo);
    expect(clean.version).toBe(head);
    expect(clean.files).toEqual(['a.c']);

    await writeFile(join(repo, 'a.c'), 'int a = 1;\n');
    const edited = await localTreeState(repo);
    expect(edited.version).toBe(`${head}-dirty`);
    expect(edited.hash).not.toBe(clean.hash);

    await writeFile(join(repo, 'new.h'), '#define X 1\n');
    await mkdir(join(repo, 'build'), { recursive: true });
    await writeFile(join(repo, 'build', 'junk.o'), 'x');
    const untracked = await localTreeState(repo);
    expect(untracked.hash).not.toBe(edited.hash);
    expect(untracked.files).toEqual(['a.c', 'new.h']); // build/ is never copied

    expect((await localTreeState(repo)).hash).toBe(untracked.hash);
  });

  it('identifies a plain directory by every file path, size and mtime', async () => {
    const plain = join(scratch, 'plain');
    await mkdir(join(plain, 'sub'), { recursive: true });
    await writeFile(join(plain, 'sub', 'x.c'), 'int x;\n');
    const first = await localTreeState(plain);
    expect(first.version).toBe('unversioned');
    expect(first.files).toEqual(['sub/x.c']);
    await utimes(join(plain, 'sub', 'x.c'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    expect((await localTreeState(plain)).hash).not.toBe(first.hash);
  });

  it('resolves a git: spec to the commit a branch names', async () => {
    const repo = join(scratch, 'remote');
    await mkdir(repo, { recursive: true });
    await git(repo, 'init', '-q');
    await writeFile(join(repo, 'VERSION'), '10.2.2\n');
    await git(repo, 'add', '.');
    await git(repo, 'commit', '-q', '-m', 'v');
    await git(repo, 'tag', '-a', 'v10.2.2', '-m', 'release');
    const head = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
    expect(await resolveGitCommit(repo, 'main')).toBe(head);
    expect(await resolveGitCommit(repo, 'v10.2.2')).toBe(head);
    const resolved = await resolveSource(parseSourceSpec(`git:${repo}#v10.2.2`));
    expect(resolved.identity).toEqual({ spec: `git:${repo}#v10.2.2`, kind: 'git', version: head, hash: head });
    await expect(resolveGitCommit(repo, 'no-such-branch')).rejects.toThrow(/no branch or tag 'no-such-branch'/);

    // Fetched once into the cache as a plain tree (no .git), then reused.
    const cacheEnv = { XDG_CACHE_HOME: join(scratch, 'cache') };
    const tree = await ensurePristineTree(resolved, { cacheEnv });
    expect(tree.upstreamVersion).toBe('10.2.2');
    expect(existsSync(join(tree.dir, '.git'))).toBe(false);
    expect(tree.dir).toContain(join(scratch, 'cache', 'memmap-harness', 'sources'));
    expect((await ensurePristineTree(resolved, { cacheEnv })).dir).toBe(tree.dir);
  });
});
