import { execa, type ResultPromise } from 'execa';
import { cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepDeadStaging } from '../../harness/cache/entry.ts';
import { cacheArea, cacheRoot } from '../../harness/util/cache-dirs.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { halfWrittenEntries, harnessDirs, waitFor } from './faults-helpers.ts';
import { testbed } from './testbed.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Harness processes killed while they fill the cache, and two at once on one
// cold entry: real builds, real downloads, real processes. A SIGKILL runs no
// handler, so what is checked is what the next process makes of the leftovers.
const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-faults-cache-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** The harness CLI as a child with its own TMPDIR (and, when given, its own cache root). */
function harness(args: string[], env: Record<string, string>): ResultPromise<{ reject: false; all: true }> {
  return execa('node', [CLI, ...args], { cwd: REPO_ROOT, env, reject: false, all: true, timeout: scaledMs(900_000) });
}

/** Processes (named `comm`, when given) whose working directory is inside `dir` (a build's children), from /proc. */
async function processesIn(dir: string, comm?: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (comm !== undefined && (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim() !== comm) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}/`)) found.push(Number(entry));
  }
  return found;
}

/** Processes whose environment names `root` (everything a harness with XDG_CACHE_HOME=root started), from /proc. */
async function processesWithCache(root: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`XDG_CACHE_HOME=${root}`)) found.push(Number(entry));
  }
  return found;
}

const nothingLeft = async (probe: () => Promise<number[]>, what: string) => waitFor(what, async () => ((await probe()).length === 0 ? true : undefined), 60_000);
const stagingOf = async (area: string, pid: number) => (await readdir(area).catch(() => [] as string[])).find((n) => n.startsWith('.staging-') && n.includes(`-${pid}-`));

describe('SIGKILL while filling the cache', () => {
  // Copying the tree and configuring before ninja starts takes minutes when the two cores are shared.
  it('during a QEMU build: no entry, its children die, and the next build sweeps the leftovers and starts afresh', { timeout: scaledMs(1_200_000) }, async () => {
    // A series of our own (v5 with a changed subject line) is a cold cache key; the source tree is cached.
    const series = join(work, `v5-fault-${process.pid}-${Date.now()}`);
    await cp(join(REPO_ROOT, 'patches', 'memmap-type', 'v5'), series, { recursive: true });
    const third = join(series, '0003-qemu-options-document-numa-node-memmap-type.patch');
    await writeFile(third, (await readFile(third, 'utf8')).replace(/^Subject: (.*)$/m, `Subject: $1 (fault test ${Date.now()})`));
    const area = cacheArea('qemu');
    const entriesBefore = (await readdir(area)).filter((n) => !n.startsWith('.'));
    const tmp = await mkdtemp(join(work, 'tmp-'));

    const first = harness(['build', '--patches', series], { TMPDIR: tmp });
    const firstPid = first.pid ?? 0;
    const firstStaging = join(area, await waitFor('the first build to start staging', () => stagingOf(area, firstPid), 120_000));
    // A build step runs in the staging dir (the series applied to a sparse copy) or in the
    // persistent build tree (ninja, harness/qemu-build/tree.ts): kill the harness during one.
    const treeArea = cacheArea('qemu-tree');
    const buildChildren = async (staging: string) => [...(await processesIn(staging)), ...(await processesIn(treeArea))];
    await waitFor('the first build to run a build step', async () => ((await buildChildren(firstStaging)).length > 0 ? true : undefined), 900_000);
    first.kill('SIGKILL');
    await first;
    await nothingLeft(() => buildChildren(firstStaging), 'the build children to die with the harness');
    expect((await readdir(area)).filter((n) => !n.startsWith('.'))).toEqual(entriesBefore);
    expect(await readdir(area)).toContain(firstStaging.slice(area.length + 1)); // left behind: nobody ran a handler

    const second = harness(['build', '--patches', series], { TMPDIR: tmp });
    const secondPid = second.pid ?? 0;
    const secondStaging = join(area, await waitFor('the next build to start staging', () => stagingOf(area, secondPid), 120_000));
    const names = await readdir(area);
    expect(names).not.toContain(firstStaging.slice(area.length + 1));
    const lockName = `.flock-${secondStaging.slice(area.length + '/.staging-'.length, secondStaging.lastIndexOf(`-${secondPid}-`))}`;
    expect((await readFile(join(area, lockName), 'utf8')).trim()).toBe(String(secondPid)); // the kernel dropped the dead one's flock; this one holds it
    second.kill('SIGKILL');
    const out = await second;
    expect(out.all).toMatch(new RegExp(`took over the lock of dead process ${firstPid}`));
    expect(out.all).toMatch(/building QEMU for .* → /);
    await nothingLeft(() => buildChildren(secondStaging), 'the second build children to die');
    // What the second one left is this test's to clear, as the next build would: its staging and scratch (the lock file stays; nobody holds it).
    expect(await sweepDeadStaging(area)).toEqual(expect.arrayContaining([secondStaging.slice(area.length + 1)]));
    expect((await readdir(area)).filter((n) => !n.startsWith('.'))).toEqual(entriesBefore);
    expect(await harnessDirs(tmp)).toEqual([]);
    expect(await halfWrittenEntries()).toEqual([]);
  });

  it('during an image download: no entry, apt dies with the harness, and the next run downloads again and publishes', { timeout: scaledMs(600_000) }, async () => {
    // A private cache whose package lists and version records come from the shared one: the kernel is cold.
    const root = await privateCache(['apt', 'resolved']);
    const tmp = await mkdtemp(join(work, 'tmp-'));
    const env = { XDG_CACHE_HOME: root, TMPDIR: tmp };
    const debs = join(root, 'memmap-harness', 'debs');

    const first = harness(['images', '--kernel', 'bookworm-6.1'], env);
    const firstPid = first.pid ?? 0;
    await waitFor('the download to start', () => stagingOf(debs, firstPid), 300_000);
    first.kill('SIGKILL');
    await first;
    await nothingLeft(() => processesWithCache(root), 'apt-get to die with the harness');
    expect((await readdir(debs)).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(await halfWrittenEntries(join(root, 'memmap-harness'))).not.toEqual([]); // the dead one's staging, for the next run

    const next = await harness(['images', '--kernel', 'bookworm-6.1'], env);
    expect(next.exitCode, next.all).toBe(0);
    expect(next.all).toMatch(/kernels\/linux-image-6\.1\.0-[^\s]*amd64/);
    expect(await halfWrittenEntries(join(root, 'memmap-harness'))).toEqual([]);
    expect((await readdir(debs)).filter((n) => n.startsWith('linux-image-'))).toHaveLength(1);
    expect(await harnessDirs(tmp)).toEqual([]);
    expect((await readdir(tmp)).filter((n) => !n.startsWith('tsx-'))).toEqual([]); // tsx's own compile cache is not ours
  });
});

describe('two harness processes on one cold cache entry', () => {
  it('one makes it, the other says it waits and then reuses it: one entry, both runs pass', { timeout: scaledMs(600_000) }, async () => {
    // Cold kernel and initramfs entries (unpacking Debian's 6.1 takes seconds); the .deb and lists are shared.
    const root = await privateCache(['apt', 'resolved', 'debs', 'firmware']);
    const env = { XDG_CACHE_HOME: root, TMPDIR: await mkdtemp(join(work, 'tmp-')) };
    const kernels = join(root, 'memmap-harness', 'kernels');
    const run = (n: number) => harness(['run', '--case', 'negative-memmap-type-bogus', '--kernel', 'bookworm-6.1', '--qemu', testbed().qemuV5, '--profile', 'v5', '--results', join(work, `two-${n}`)], env);

    const a = run(1);
    const aPid = a.pid ?? 0;
    // Hold the first one still while it owns the lock, so the second surely finds it held.
    const holdsLock = async () => {
      for (const n of (await readdir(kernels).catch(() => [] as string[])).filter((x) => x.startsWith('.flock-'))) if ((await readFile(join(kernels, n), 'utf8').catch(() => '')).trim() === String(aPid)) return true;
      return undefined;
    };
    await waitFor('the first run to take the kernel lock', holdsLock, 300_000);
    process.kill(aPid, 'SIGSTOP');
    const b = run(2);
    let bOutput = '';
    b.all?.on('data', (chunk: Buffer) => (bOutput += chunk.toString()));
    const waits = new RegExp(`waiting for process ${aPid}, which is making .*kernels`);
    try {
      await waitFor('the second run to say it waits', async () => (waits.test(bOutput) ? true : undefined), 120_000);
    } finally {
      process.kill(aPid, 'SIGCONT');
    }
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.exitCode, ra.all).toBe(0);
    expect(rb.exitCode, rb.all).toBe(0);
    expect(rb.all).toMatch(waits);
    expect(rb.all).not.toMatch(/took over the lock/);
    expect((await readdir(kernels)).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    expect(await halfWrittenEntries(join(root, 'memmap-harness'))).toEqual([]);
  });
});

describe('a first run builds QEMU and the kernel side by side', () => {
  it('a series that does not apply stops the kernel build beside it: one error line, no kernel entry, nothing left running', { timeout: scaledMs(600_000) }, async () => {
    // Cold QEMU and kernel entries; the QEMU tarball, linux-source .deb and lists are shared.
    const root = await privateCache(['apt', 'resolved', 'debs', 'sources', 'downloads']);
    const tmp = await mkdtemp(join(work, 'tmp-'));
    const env = { XDG_CACHE_HOME: root, TMPDIR: tmp };
    const broken = join(work, 'broken-series');
    await cp(join(REPO_ROOT, 'patches', 'memmap-type', 'v5'), broken, { recursive: true });
    const victim = (await readdir(broken)).filter((n) => n.endsWith('.patch')).sort().find((n) => /^0002-/.test(n));
    if (!victim) throw new Error('the v5 series has no 0002 patch');
    const text = await readFile(join(broken, victim), 'utf8');
    // A line the patch removes from hw/i386/pc.c that is not in QEMU: no fuzz makes it fit.
    const removedAt = text.indexOf('\n-', text.indexOf('\n@@', text.indexOf('+++ b/hw/i386/pc.c')));
    await writeFile(join(broken, victim), `${text.slice(0, removedAt + 2)}NOT IN QEMU ${text.slice(removedAt + 2)}`);

    const result = await harness(['run', '--patches', broken, '--case', 'seed-spm', '--results', join(work, 'side-by-side')], env);
    expect(result.exitCode, result.all).toBe(3);
    // The kernel build had started beside the QEMU one (its step line is there) …
    expect(result.all).toMatch(/memmap-harness: kernel minimal-6\.1: building kernel minimal-6\.1/);
    // … and the error is the series', once, as the last line: not the kernel build's abort.
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^memmap-harness: patch ${victim} does not apply to .*hw/i386/pc\\.c`));
    expect(result.all).not.toMatch(/aborted|interrupted/i);
    await nothingLeft(() => processesWithCache(root), 'the kernel build to be gone with the run');
    const kernels = join(root, 'memmap-harness', 'kernels');
    expect((await readdir(kernels).catch(() => [] as string[])).filter((n) => !n.startsWith('.flock-'))).toEqual([]);
    expect(await halfWrittenEntries(join(root, 'memmap-harness'))).toEqual([]);
    expect(await harnessDirs(tmp)).toEqual([]);
  });
});

/** A private cache root under the work dir; the named areas are links to the shared cache's. */
async function privateCache(shared: string[]): Promise<string> {
  const root = await mkdtemp(join(work, 'cache-'));
  await mkdir(join(root, 'memmap-harness'));
  for (const area of shared) await symlink(join(cacheRoot(), area), join(root, 'memmap-harness', area));
  return root;
}
