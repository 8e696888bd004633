import { execa } from 'execa';
import { mkdtemp, rm, writeFile, readlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { patchPaths, UnsafeSeriesPathError } from '../../harness/source/diff-paths.ts';
import { UsageError } from '../../harness/util/errors.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * Issue 22: a series is input from people we do not know. Its paths come only
 * from diff headers, and one naming an absolute path, a `..` component or a
 * symbolic link out of the tree is refused (exit 2: a UsageError) naming the
 * patch and the line. The symbolic-link diffs are made by git itself
 * (format-patch of a real commit), not written by hand.
 */
const scratch = await mkdtemp(join(tmpdir(), 'memmap-confine-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

function refusal(content: string): string {
  try {
    patchPaths(content, '0001-x.patch');
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafeSeriesPathError);
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
}

const mail = (body: string, diff: string) => `From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: a <a@b>\nSubject: [PATCH] x\n\n${body}\n---\n${diff}-- \n2.39.2\n`;

/** A commit made by git in a scratch repository, as format-patch writes it. */
async function gitPatch(name: string, setup: (repo: string) => Promise<unknown>, change: (repo: string) => Promise<unknown>): Promise<string> {
  const repo = join(scratch, name);
  await mkdir(repo, { recursive: true });
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
  await git('init', '-q');
  await setup(repo);
  await git('add', '-A');
  await git('commit', '-qm', 'base');
  await change(repo);
  await git('add', '-A');
  await git('commit', '-qm', 'change');
  return (await git('format-patch', '--stdout', 'HEAD~1..HEAD')).stdout;
}

describe('paths come only from diff headers', () => {
  it('prose in the commit message that looks like headers names nothing', () => {
    const body = 'rename from ../../etc/passwd\nrename to /etc/shadow\n--- a/../../x\n+++ b/../../y\nnew file mode 120000';
    const diff = 'diff --git a/hw/a.c b/hw/a.c\nindex 1111111..2222222 100644\n--- a/hw/a.c\n+++ b/hw/a.c\n@@ -1,2 +1,2 @@\n one\n-two\n+deux\n';
    expect(patchPaths(mail(body, diff), 'p').paths).toEqual(['hw/a.c']);
  });

  it('hunk lines that look like headers are skipped by the hunk counts', () => {
    const diff = 'diff --git a/hw/a.c b/hw/a.c\n--- a/hw/a.c\n+++ b/hw/a.c\n@@ -1,3 +1,3 @@\n one\n--- a/../../evil\n+++ b/../../evil\n';
    expect(patchPaths(mail('msg', diff), 'p').paths).toEqual(['hw/a.c']);
  });

  it('renames, copies and quoted names are read from the extended header', () => {
    const diff = 'diff --git a/old.c b/new.c\nsimilarity index 100%\nrename from old.c\nrename to new.c\ndiff --git "a/sp ace\\tx.c" "b/sp ace\\tx.c"\n--- "a/sp ace\\tx.c"\n+++ "b/sp ace\\tx.c"\n@@ -1 +1 @@\n-a\n+b\n';
    expect(patchPaths(mail('msg', diff), 'p').paths).toEqual(['new.c', 'old.c', 'sp ace\tx.c']);
  });
});

describe('paths that leave the tree are refused with the patch and the line', { timeout: scaledMs(60_000) }, () => {
  it('an absolute path', () => {
    const diff = '--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n';
    expect(refusal(mail('msg', diff))).toBe("patch 0001-x.patch line 7: names the absolute path '/etc/passwd'");
  });

  it('a .. component in the new name', () => {
    const diff = 'diff --git a/hw/a.c b/hw/a.c\n--- a/hw/a.c\n+++ b/hw/../../a.c\n@@ -1 +1 @@\n-a\n+b\n';
    expect(refusal(mail('msg', diff))).toBe("patch 0001-x.patch line 9: names 'hw/../../a.c', whose '..' leaves the tree");
  });

  it('a .. component in a rename', () => {
    const diff = 'diff --git a/x.c b/y.c\nsimilarity index 100%\nrename from x.c\nrename to ../y.c\n';
    expect(refusal(mail('msg', diff))).toBe("patch 0001-x.patch line 10: names '../y.c', whose '..' leaves the tree");
  });

  it('a symbolic link (made by git) whose target leaves the tree; one that stays inside is accepted', async () => {
    const out = await gitPatch('link-out', async (r) => writeFile(join(r, 'README'), 'x\n'), async (r) => {
      await mkdir(join(r, 'hw'), { recursive: true });
      await execa('ln', ['-s', '../../../etc/passwd', join(r, 'hw', 'passwd')]);
    });
    expect(out).toContain('new file mode 120000');
    const line = out.split('\n').findIndex((l) => l === '+../../../etc/passwd') + 1;
    expect(refusal(out)).toBe(`patch 0001-x.patch line ${line}: makes hw/passwd a symbolic link to '../../../etc/passwd', outside the tree`);

    const absolute = await gitPatch('link-abs', async (r) => writeFile(join(r, 'README'), 'x\n'), async (r) => execa('ln', ['-s', '/etc/shadow', join(r, 'shadow')]));
    expect(refusal(absolute)).toMatch(/^patch 0001-x\.patch line \d+: makes shadow a symbolic link to the absolute path '\/etc\/shadow'$/);

    const inside = await gitPatch('link-in', async (r) => {
      await mkdir(join(r, 'include'), { recursive: true });
      await writeFile(join(r, 'include', 'a.h'), 'x\n');
    }, async (r) => {
      await mkdir(join(r, 'hw'), { recursive: true });
      await execa('ln', ['-s', '../include/a.h', join(r, 'hw', 'a.h')]);
    });
    expect(await readlink(join(scratch, 'link-in', 'hw', 'a.h'))).toBe('../include/a.h');
    expect(patchPaths(inside, 'p').paths).toEqual(['hw/a.h']);
  });

  it('an existing link retargeted out of the tree (index line with mode 120000)', async () => {
    const out = await gitPatch('link-retarget', async (r) => execa('ln', ['-s', 'README', join(r, 'l')]), async (r) => {
      await rm(join(r, 'l'));
      await execa('ln', ['-s', '../outside', join(r, 'l')]);
    });
    expect(out).toMatch(/^index [0-9a-f]+\.\.[0-9a-f]+ 120000$/m);
    expect(refusal(out)).toMatch(/^patch 0001-x\.patch line \d+: makes l a symbolic link to '\.\.\/outside', outside the tree$/);
  });
});
