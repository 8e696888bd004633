import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReviewArgs, shellWord } from '../../harness/cli/commands/review.ts';
import { checkTestedBy } from '../../harness/review/execute.ts';
import { readSeriesMail } from '../../harness/review/series-mail.ts';
import { MAX_COLUMNS, shellLines, wrap } from '../../harness/review/render.ts';
import { comparePatchNames } from '../../harness/source/series.ts';
import { UsageError } from '../../harness/util/errors.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';

/*
 * The headers a review reads from a posted series. The mbox is made the way
 * git makes one (`git format-patch --cover-letter --base --stdout` on a real
 * commit), so the format is git's, not ours.
 */

let scratch: string;
let mbox: string;
let base: string;

async function git(cwd: string, ...args: string[]) {
  return execa('git', ['-c', 'user.name=Test', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', ...args], { cwd });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'review-mail-test-'));
  const repo = join(scratch, 'repo');
  await git(scratch, 'init', '-q', repo);
  await writeFile(join(repo, 'f.c'), 'one\ntwo\n');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', 'base');
  base = (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
  for (const [line, subject] of [['three', 'f: add three'], ['four', 'f: add four']] as const) {
    await writeFile(join(repo, 'f.c'), `${(await readFile(join(repo, 'f.c'), 'utf8'))}${line}\n`);
    await git(repo, 'commit', '-q', '-am', subject);
  }
  const { stdout } = await git(repo, 'format-patch', '--stdout', '--cover-letter', '--subject-prefix=PATCH v2', `--base=${base}`, 'HEAD~2..HEAD');
  mbox = join(scratch, 'v2.mbx');
  await writeFile(mbox, `${stdout}\n`);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('readSeriesMail', () => {
  it("takes the cover letter's subject and the base-commit trailer from a format-patch mbox", async () => {
    const mail = await readSeriesMail(mbox);
    expect(mail.subject).toBe('[PATCH v2 0/2] *** SUBJECT HERE ***');
    expect(mail.hasCoverLetter).toBe(true);
    expect(mail.baseCommit).toBe(base);
    expect(mail.patches).toEqual(['[PATCH v2 1/2] f: add three', '[PATCH v2 2/2] f: add four']);
    expect(mail.otherMessages).toEqual([]);
  });

  it("without a cover letter, a directory's subject is the first patch's", async () => {
    const mail = await readSeriesMail(join(REPO_ROOT, 'patches', 'memmap-type', 'v6'));
    const names = (await readdir(join(REPO_ROOT, 'patches', 'memmap-type', 'v6'))).sort(comparePatchNames);
    expect(names).toHaveLength(4);
    expect(mail.hasCoverLetter).toBe(false);
    expect(mail.subject).toBe("[PATCH 1/4] numa: add 'memmap-type' option to -numa node");
    expect(mail.patches).toHaveLength(4);
    expect(mail.baseCommit).toBeNull();
  });

  it("keeps a subject's terminal escapes out of the terminal and the reply", async () => {
    const text = (await readFile(mbox, 'utf8')).replace('*** SUBJECT HERE ***', 'evil \u001b[2J\u001b]0;title\u0007 subject');
    const path = join(scratch, 'escapes.mbx');
    await writeFile(path, text);
    expect((await readSeriesMail(path)).subject).toBe('[PATCH v2 0/2] evil ?[2J?]0;title? subject');
  });

  it('refuses a file with no patch in it, and a missing path', async () => {
    const empty = join(scratch, 'notes.mbx');
    await writeFile(empty, 'From x@y Thu Jan  1 00:00:00 1970\nSubject: just words\n\nno diff here\n');
    await expect(readSeriesMail(empty)).rejects.toThrow(/holds no patches/);
    await expect(readSeriesMail(join(scratch, 'missing.mbx'))).rejects.toThrow(/does not exist/);
  });
});

describe('review arguments', () => {
  it('Tested-by must be "Name <mail>" on one line', () => {
    expect(checkTestedBy('Jane Doe <jane@example.org>')).toBe('Jane Doe <jane@example.org>');
    for (const bad of ['jane@example.org', 'Jane <jane>', 'Jane <a@b>\nSigned-off-by: x <y@z>', '<jane@example.org>']) expect(() => checkTestedBy(bad)).toThrow(UsageError);
  });

  it('takes one series, repeatable --against, and refuses both Tested-by sources', () => {
    const args = parseReviewArgs(['s.mbx', '--against', 'v5', '--against', 'upstream-11.1', '--tested-by', 'A B <a@b.c>'], {});
    expect(args.series).toBe('s.mbx');
    expect(args.against).toEqual(['v5', 'upstream-11.1']);
    expect(args.testedBy).toBe('A B <a@b.c>');
    expect(() => parseReviewArgs([], {})).toThrow(/give one SERIES/);
    expect(() => parseReviewArgs(['s', '--tested-by', 'A <a@b.c>', '--tested-by-git'], {})).toThrow(/not both/);
    expect(() => parseReviewArgs(['s', '--firmware', 'nonsense'], {})).toThrow(/unknown firmware nonsense/);
  });

  it('the reproducing command line quotes what a shell would split', () => {
    expect(['memmap-harness', 'review', 'a.mbx', '--tested-by', "Jo O'Neil <jo@x.org>"].map(shellWord).join(' ')).toBe(`memmap-harness review a.mbx --tested-by 'Jo O'\\''Neil <jo@x.org>'`);
  });
});

describe('wrap', () => {
  it('keeps every line at most MAX_COLUMNS, long words included', () => {
    const long = `seed-reserved [q35, qboot|ovmf-sid|seabios-bookworm, minimal-6.1]: SRAT entry pxm 1 [0x280000000-0x47fffffff] present in patches/memmap-type/v5, absent in /tmp/${'x'.repeat(150)}/v6.mbx`;
    const lines = wrap(long, '  ');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(MAX_COLUMNS);
    expect(lines.join('').replace(/\s+/g, '')).toBe(`  ${long}`.replace(/\s+/g, ''));
  });
});

describe('shellLines', () => {
  it('breaks a long command between words with backslash continuations a shell reads back as one', () => {
    const words = ['memmap-harness', 'review', `/tmp/${'d'.repeat(60)}/v6.mbx`, '--against', 'patches/memmap-type/v5', '--results', `/tmp/${'r'.repeat(40)}`, '--tested-by', shellWord('Test Reviewer <reviewer@example.org>')];
    const lines = shellLines(words, '  ');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(MAX_COLUMNS);
    for (const line of lines.slice(0, -1)) expect(line.endsWith(' \\')).toBe(true);
    expect(lines.map((l) => l.replace(/ \\$/, '').trim()).join(' ')).toBe(words.join(' '));
    expect(lines.some((l) => l.includes("'Test Reviewer <reviewer@example.org>'"))).toBe(true);
  });
});
