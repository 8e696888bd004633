import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * The whole path through the real CLI, on a toy source tree (its "configure"
 * writes a build.ninja that makes a fake qemu-system-x86_64, so it costs
 * seconds): a release tree in git, a series made on "master" with
 * `git format-patch --base`, built with `build --source DIR --patches DIR`.
 */

const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const PATCH = '0001-type-lines-20-and-50.patch';
let scratch: string;
let release: string;
let masterSha: string;
let seriesDir: string;
let env: Record<string, string>;

const lines = Array.from({ length: 60 }, (_, i) => `line ${i + 1}`);

async function git(cwd: string, ...args: string[]) {
  return execa('git', ['-c', 'user.name=Test', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', ...args], { cwd });
}

async function commitFile(repo: string, file: string, content: string, message: string): Promise<string> {
  await writeFile(join(repo, file), content);
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-q', '-m', message);
  return (await git(repo, 'rev-parse', 'HEAD')).stdout.trim();
}

async function build(...args: string[]) {
  return execa('node', [CLI, 'build', '--source', `dir:${release}`, '--patches', seriesDir, ...args], { env, reject: false, timeout: scaledMs(120_000) });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'build-fuzz-test-'));
  env = { XDG_CACHE_HOME: join(scratch, 'cache') };
  release = join(scratch, 'release');
  await mkdir(release);
  const ninja = "rule mk\n  command = printf '#!/bin/sh\\necho \"QEMU emulator version 0.0.1-toy\"\\n' > $out && chmod +x $out\nbuild qemu-system-x86_64: mk\n";
  await writeFile(join(release, 'configure'), `#!/bin/sh\ncat > build.ninja <<'EOF'\n${ninja}EOF\n`);
  await chmod(join(release, 'configure'), 0o755);
  await git(release, 'init', '-q');
  await commitFile(release, 'f.c', `${lines.join('\n')}\n`, 'release');

  // master: two lines more at the top, and line 17 (first context line of hunk #1) renamed.
  const master = join(scratch, 'master');
  await git(scratch, 'clone', '-q', release, master);
  masterSha = await commitFile(master, 'f.c', `${['top 1', 'top 2', ...lines.map((l) => (l === 'line 17' ? 'line 17 on master' : l))].join('\n')}\n`, 'master moves on');
  const typed = (await readFile(join(master, 'f.c'), 'utf8')).replace('line 20\n', 'line 20 typed\n').replace('line 50\n', 'line 50 typed\n');
  await commitFile(master, 'f.c', typed, 'type lines 20 and 50');
  seriesDir = join(scratch, 'series');
  await git(master, 'format-patch', '-q', `--base=${masterSha}`, '-o', seriesDir, 'HEAD~1..HEAD');
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('build with a series made on master', () => {
  it('builds, and --json records the fuzzed and moved hunks and the base mismatch', async () => {
    const result = await build('--json');
    expect(result.exitCode, result.stderr).toBe(0);
    const manifest = JSON.parse(result.stdout) as Record<string, unknown>;
    const releaseHead = (await git(release, 'rev-parse', 'HEAD')).stdout.trim();
    expect(manifest.applied).toEqual([
      {
        patch: PATCH,
        tool: 'patch',
        mode: 'fuzz',
        hunks: [
          { file: 'f.c', hunk: 1, line: 17, offset: -2, fuzz: 1 },
          { file: 'f.c', hunk: 2, line: 47, offset: -2, fuzz: 0 },
        ],
      },
    ]);
    expect(manifest.base).toEqual({
      baseCommit: masterSha,
      status: 'mismatch',
      sourceCommit: releaseHead,
      summary: `the series was made against base-commit ${masterSha.slice(0, 12)}, but dir:${release} is at ${releaseHead.slice(0, 12)}`,
    });
    expect(result.stderr).toContain(`memmap-harness: WARNING: ${PATCH} (patch): f.c hunk #1 applied at line 17 with fuzz 1 (offset -2 lines)`);
  });

  it('says so again on a cache hit, on stderr, with only the binary path on stdout', async () => {
    const result = await build();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^\/\S+\/bin\/qemu-system-x86_64$/);
    expect(result.stderr.split('\n')).toEqual([
      `memmap-harness: WARNING: ${PATCH} (patch): f.c hunk #1 applied at line 17 with fuzz 1 (offset -2 lines)`,
      `memmap-harness: note: ${PATCH} (patch): f.c hunk #2 applied at line 47 (offset -2 lines)`,
      'memmap-harness: WARNING: 1 hunk applied with fuzz (context lines ignored): check it in the source before trusting this build',
      expect.stringMatching(new RegExp(`^memmap-harness: WARNING: the series was made against base-commit ${masterSha.slice(0, 12)}, but dir:`)),
    ]);
  });

  it('refuses, naming file and hunk, when a changed line differs on the release', async () => {
    await writeFile(join(release, 'f.c'), `${lines.map((l) => (l === 'line 50' ? 'line 50 changed in the release' : l)).join('\n')}\n`);
    const result = await build();
    expect(result.exitCode).toBe(3);
    // A hunk that does not fit is named by the line its patch gives (master's 49), there being no line it went to.
    expect(result.stderr.trim().split('\n').pop()).toBe(
      `memmap-harness: patch ${PATCH} does not apply to dir:${release}: f.c: hunk #2 (line 49) does not fit even with fuzz 2; rebase the series (${join(seriesDir, PATCH)}) onto that source, or pick the matching --source`,
    );
  });
});
