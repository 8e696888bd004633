import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureEntry, readEntry, sweepDeadStaging } from '../../harness/cache/entry.ts';
import { acquireEntryLock, legacyLockPathFor, lockPathFor, lockTimeoutMs } from '../../harness/cache/lock.ts';
import { HarnessError } from '../../harness/util/errors.ts';
import { run } from '../../harness/util/subprocess.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { filesMismatch, filesSha256, sha256File, sha256Mismatch } from '../../harness/util/hash.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// The cache's guarantees across processes, on the real file system: one
// producer per entry (flock), a dead producer's lock gone with it and its
// staging dirs cleared, a bounded wait.
let area: string;
beforeEach(async () => {
  area = await mkdtemp(join(tmpdir(), 'memmap-harness-lock-test-'));
});
afterEach(() => rm(area, { recursive: true, force: true }));

/** The pid of a process that has exited (a real one, so the number was really used). */
async function deadPid(): Promise<number> {
  const child = execa('true');
  const pid = child.pid;
  await child;
  if (pid === undefined) throw new Error('no pid for `true`');
  return pid;
}

describe('entry lock', { timeout: scaledMs(60_000) }, () => {
  it('a second producer waits for the first and reuses its entry instead of producing again', async () => {
    const dir = join(area, 'key');
    let produced = 0;
    const lines: string[] = [];
    // Long enough for the waiter's first progress line (after 1 s).
    const slow = (staging: string) => new Promise<{ n: number }>((resolve) => setTimeout(async () => {
      produced += 1;
      await writeFile(join(staging, 'data'), 'x');
      resolve({ n: produced });
    }, 1_800));
    const [a, b] = await Promise.all([ensureEntry(dir, slow, { log: (l) => lines.push(l) }), ensureEntry(dir, slow, { log: (l) => lines.push(l) })]);
    expect(produced).toBe(1);
    expect(a).toEqual({ n: 1 });
    expect(b).toEqual({ n: 1 });
    expect(lines.some((l) => l.includes(`waiting for process ${process.pid}, which is making ${dir}`))).toBe(true);
    // The lock file stays (removing it would let a second holder in), emptied: nobody died holding it.
    expect((await readdir(area)).sort()).toEqual(['.flock-key', 'key']);
    expect(await readFile(lockPathFor(dir), 'utf8')).toBe('');
  });

  it('a producer killed with SIGKILL holds nothing: the next one gets the lock at once and says whose it took over', async () => {
    const dir = join(area, 'key');
    // A real other process takes the lock through the harness's own code, then is SIGKILLed.
    const holder = execa(process.execPath, ['--import', 'tsx', '-e', `import('${join(REPO_ROOT, 'harness', 'cache', 'lock.ts')}').then(async (m) => { await m.acquireEntryLock(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000); })`], { cwd: REPO_ROOT, reject: false });
    await new Promise<void>((resolve) => holder.stdout?.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
    const busy = await acquireEntryLock(dir, { timeoutMs: 1_000, log: () => {} }).catch((e: unknown) => e);
    expect((busy as HarnessError).oneLine()).toMatch(new RegExp(`^waited \\d+ s for process ${holder.pid} to finish making`));
    holder.kill('SIGKILL');
    await holder;
    const lines: string[] = [];
    const started = Date.now();
    const lock = await acquireEntryLock(dir, { timeoutMs: scaledMs(10_000), log: (l) => lines.push(l) });
    expect(Date.now() - started).toBeLessThan(scaledMs(5_000));
    expect(lock.diedOwner).toBe(holder.pid);
    expect(lines).toEqual([`memmap-harness: took over the lock of dead process ${holder.pid} on ${dir}`]);
    expect(await readFile(lockPathFor(dir), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('a pid in a lock file means nothing by itself: a reused (live) pid does not keep anyone waiting', async () => {
    const dir = join(area, 'key');
    await writeFile(lockPathFor(dir), '1\n'); // init: alive forever, and not a holder
    const lines: string[] = [];
    const lock = await acquireEntryLock(dir, { timeoutMs: 2_000, log: (l) => lines.push(l) });
    expect(lines).toEqual([`memmap-harness: took over the lock of dead process 1 on ${dir}`]);
    await lock.release();
  });

  it("an older harness's live pid-file lock is still waited for; a dead one's is not", async () => {
    const dir = join(area, 'key');
    await writeFile(legacyLockPathFor(dir), `${process.pid}\n`);
    const error = await acquireEntryLock(dir, { timeoutMs: 1_500, log: () => {} }).catch((e: unknown) => e);
    expect((error as HarnessError).oneLine()).toMatch(new RegExp(`^waited \\d+ s for process ${process.pid} \\(an older harness\\) to finish making`));
    await writeFile(legacyLockPathFor(dir), `${await deadPid()}\n`);
    const lock = await acquireEntryLock(dir, { timeoutMs: 1_500, log: () => {} });
    await lock.release();
  });

  it("a live owner's lock is waited for until the timeout: one line naming the owner", async () => {
    const dir = join(area, 'key');
    const held = await acquireEntryLock(dir);
    try {
      const lines: string[] = [];
      const started = Date.now();
      const error = await acquireEntryLock(dir, { timeoutMs: 1_000, log: (l) => lines.push(l) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HarnessError);
      expect((error as HarnessError).oneLine()).toMatch(new RegExp(`^waited \\d+ s for process ${process.pid} to finish making .*; if process ${process.pid} is stuck`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    } finally {
      await held.release();
    }
  });

  it('a bad MEMMAP_HARNESS_LOCK_TIMEOUT_MS is one clear error', () => {
    expect(() => lockTimeoutMs({ MEMMAP_HARNESS_LOCK_TIMEOUT_MS: 'soon' })).toThrow(/must be a positive whole number of milliseconds, not 'soon'/);
    expect(lockTimeoutMs({ MEMMAP_HARNESS_LOCK_TIMEOUT_MS: '1000' })).toBe(1000);
  });
});

describe('leftovers of producers that died', { timeout: scaledMs(60_000) }, () => {
  it("staging dirs of keys nobody holds are swept, a held key's are kept; older versions' dead pid locks go", async () => {
    const dead = await deadPid();
    const names = {
      deadStaging: `.staging-linux-image-6.1.0-50-amd64_6.1.176-1-${dead}-0a1b2c3d`,
      deadDraft: `.lock-draft-${dead}-0a1b2c3d`,
      deadLegacyLock: '.lock-gone',
      deadScratch: `.scratch-minimal-6.1_6.1.176-1-96cabdf5746f6b7d-${dead}-0a1b2c3d`,
      liveStaging: `.staging-abc-${process.pid}-0a1b2c3d`,
      entry: 'abc',
    };
    for (const name of Object.values(names)) await mkdir(join(area, name));
    await rm(join(area, names.deadLegacyLock), { recursive: true });
    await writeFile(join(area, names.deadLegacyLock), `${dead}\n`);
    const held = await acquireEntryLock(join(area, 'abc'));
    try {
      expect((await sweepDeadStaging(area)).sort()).toEqual([names.deadDraft, names.deadLegacyLock, names.deadScratch, names.deadStaging].sort());
      // Trying a key's lock leaves its (empty) lock file: lock files are never removed.
      expect((await readdir(area)).sort()).toEqual(['.flock-abc', '.flock-linux-image-6.1.0-50-amd64_6.1.176-1', '.flock-minimal-6.1_6.1.176-1-96cabdf5746f6b7d', names.entry, names.liveStaging].sort());
    } finally {
      await held.release();
    }
  });

  it("an older harness producing a key keeps its staging dir: its live pid lock is respected", async () => {
    await mkdir(join(area, `.staging-old-${process.pid}-0a1b2c3d`));
    await writeFile(join(area, '.lock-old'), `${process.pid}\n`);
    expect(await sweepDeadStaging(area)).toEqual([]);
  });

  it('the next producer sweeps them before it builds, and never takes a staging dir for an entry', async () => {
    const dead = await deadPid();
    const dir = join(area, 'key');
    await mkdir(join(area, `.staging-key-${dead}-0a1b2c3d`, 'half'), { recursive: true });
    expect(await readEntry(dir)).toBeUndefined();
    let scratchSeen = '';
    expect(await ensureEntry(dir, async (_staging, scratch) => ((scratchSeen = scratch), { fresh: true }))).toEqual({ fresh: true });
    expect(scratchSeen.startsWith(join(area, '.scratch-key-'))).toBe(true);
    expect((await readdir(area)).sort()).toEqual(['.flock-key', 'key']);
  });
});

describe('children run through setpriv (they die with the harness)', () => {
  it('a missing program is still "failed to run", not an exit code', async () => {
    await expect(run('memmap-harness-no-such-program', [], { timeoutMs: 5_000 })).rejects.toThrow(/failed to run/);
  });
});

describe('waiting, interrupted', { timeout: scaledMs(60_000) }, () => {
  it('an aborted signal ends the wait with an interruption, not a timeout', async () => {
    const dir = join(area, 'key');
    const held = await acquireEntryLock(dir);
    try {
      const controller = new AbortController();
      const waiting = acquireEntryLock(dir, { log: () => {}, signal: controller.signal });
      setTimeout(() => controller.abort('SIGINT'), 100);
      await expect(waiting).rejects.toThrow(/waiting for process \d+ to finish making .* interrupted \(SIGINT\)/);
    } finally {
      await held.release();
    }
  });
});

describe('downloads are checked against their recorded sha256 on reuse', { timeout: scaledMs(60_000) }, () => {
  // The same check fetchDeb, ensureDebianOrig, ensureFirmware and ensureKernel pass to ensureEntry.
  const fetchInto = (dir: string, counter: { n: number }) => async (staging: string) => {
    counter.n += 1;
    await writeFile(join(staging, 'pkg.deb'), 'the real bytes\n');
    return { file: 'pkg.deb', sha256: await sha256File(join(staging, 'pkg.deb')), dir };
  };
  const verify = (m: { file: string; sha256: string; dir: string }) => sha256Mismatch(join(m.dir, m.file), m.sha256);

  it('an intact download is reused without fetching; a changed one is fetched again, and said so on stderr', async () => {
    const dir = join(area, 'pkg_1.0');
    const fetched = { n: 0 };
    await ensureEntry(dir, fetchInto(dir, fetched), { verify });
    await ensureEntry(dir, fetchInto(dir, fetched), { verify });
    expect(fetched.n).toBe(1);

    await writeFile(join(dir, 'pkg.deb'), 'tampered\n');
    const lines: string[] = [];
    const again = await ensureEntry(dir, fetchInto(dir, fetched), { verify, log: (l) => lines.push(l) });
    expect(fetched.n).toBe(2);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^memmap-harness: ${join(dir, 'pkg.deb')} in the cache has sha256 [0-9a-f]{64}, not the recorded ${again.sha256}; fetching it again$`))]);
    expect(await readFile(join(dir, 'pkg.deb'), 'utf8')).toBe('the real bytes\n');

    await rm(join(dir, 'pkg.deb'));
    await ensureEntry(dir, fetchInto(dir, fetched), { verify, log: () => {} });
    expect(fetched.n).toBe(3);
  });

  it('recorded file hashes (kernel and firmware entries) catch one changed file; an older entry without them is trusted as before', async () => {
    const dir = join(area, 'fw');
    await mkdir(join(dir, 'usr'), { recursive: true });
    await writeFile(join(dir, 'usr', 'code.fd'), 'code');
    await writeFile(join(dir, 'vars.fd'), 'vars');
    const recorded = await filesSha256(dir, ['usr/code.fd', 'vars.fd']);
    expect(await filesMismatch(dir, recorded)).toBeUndefined();
    await writeFile(join(dir, 'vars.fd'), 'VARS');
    expect(await filesMismatch(dir, recorded)).toMatch(/vars\.fd in the cache has sha256 [0-9a-f]{64}, not the recorded/);
    expect(await filesMismatch(dir, undefined)).toBeUndefined();
  });
});
