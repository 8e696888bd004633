import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureEntry, readEntry, sweepDeadStaging } from '../../harness/cache/entry.ts';
import { acquireEntryLock, lockPathFor, lockTimeoutMs } from '../../harness/cache/lock.ts';
import { HarnessError } from '../../harness/util/errors.ts';
import { run } from '../../harness/util/subprocess.ts';

// The cache's guarantees across processes, on the real file system: one
// producer per entry, dead owners' locks and staging dirs cleared, a bounded wait.
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

describe('entry lock', () => {
  it('a second producer waits for the first and reuses its entry instead of producing again', async () => {
    const dir = join(area, 'key');
    let produced = 0;
    const lines: string[] = [];
    const slow = (staging: string) => new Promise<{ n: number }>((resolve) => setTimeout(async () => {
      produced += 1;
      await writeFile(join(staging, 'data'), 'x');
      resolve({ n: produced });
    }, 300));
    const [a, b] = await Promise.all([ensureEntry(dir, slow, { pollMs: 20, log: (l) => lines.push(l) }), ensureEntry(dir, slow, { pollMs: 20, log: (l) => lines.push(l) })]);
    expect(produced).toBe(1);
    expect(a).toEqual({ n: 1 });
    expect(b).toEqual({ n: 1 });
    expect(lines.some((l) => /waiting for process \d+, which is making .*key/.test(l))).toBe(true);
    expect(await readdir(area)).toEqual(['key']);
  });

  it("a dead owner's lock is broken and said so", async () => {
    const dir = join(area, 'key');
    const dead = await deadPid();
    await writeFile(lockPathFor(dir), `${dead}\n`);
    const lines: string[] = [];
    const lock = await acquireEntryLock(dir, { pollMs: 20, log: (l) => lines.push(l) });
    expect(lines).toEqual([`memmap-harness: broke the lock of dead process ${dead} on ${dir}`]);
    await lock.release();
    expect(await readdir(area)).toEqual([]);
  });

  it("a live owner's lock is waited for until the timeout: one line naming the owner", async () => {
    const dir = join(area, 'key');
    const held = await acquireEntryLock(dir);
    try {
      const lines: string[] = [];
      const started = Date.now();
      const error = await acquireEntryLock(dir, { timeoutMs: 300, pollMs: 20, log: (l) => lines.push(l) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HarnessError);
      expect((error as HarnessError).oneLine()).toMatch(new RegExp(`^waited \\d+ s for process ${process.pid} to finish making .*; if process ${process.pid} is stuck`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(lines).toHaveLength(1);
    } finally {
      await held.release();
    }
  });

  it('a bad MEMMAP_HARNESS_LOCK_TIMEOUT_MS is one clear error', () => {
    expect(() => lockTimeoutMs({ MEMMAP_HARNESS_LOCK_TIMEOUT_MS: 'soon' })).toThrow(/must be a positive whole number of milliseconds, not 'soon'/);
    expect(lockTimeoutMs({ MEMMAP_HARNESS_LOCK_TIMEOUT_MS: '1000' })).toBe(1000);
  });
});

describe('leftovers of producers that died', () => {
  it("staging dirs and lock drafts of dead pids are swept, a live producer's are kept", async () => {
    const dead = await deadPid();
    const names = {
      deadStaging: `.staging-linux-image-6.1.0-50-amd64_6.1.176-1-${dead}-0a1b2c3d`,
      deadDraft: `.lock-draft-${dead}-0a1b2c3d`,
      deadScratch: `.scratch-minimal-6.1_6.1.176-1-96cabdf5746f6b7d-${dead}-0a1b2c3d`,
      liveStaging: `.staging-abc-${process.pid}-0a1b2c3d`,
      entry: 'abc',
    };
    for (const name of Object.values(names)) await mkdir(join(area, name));
    expect((await sweepDeadStaging(area)).sort()).toEqual([names.deadDraft, names.deadScratch, names.deadStaging].sort());
    expect((await readdir(area)).sort()).toEqual([names.entry, names.liveStaging].sort());
  });

  it('the next producer sweeps them before it builds, and never takes a staging dir for an entry', async () => {
    const dead = await deadPid();
    const dir = join(area, 'key');
    await mkdir(join(area, `.staging-key-${dead}-0a1b2c3d`, 'half'), { recursive: true });
    expect(await readEntry(dir)).toBeUndefined();
    let scratchSeen = '';
    expect(await ensureEntry(dir, async (_staging, scratch) => ((scratchSeen = scratch), { fresh: true }))).toEqual({ fresh: true });
    expect(scratchSeen.startsWith(join(area, '.scratch-key-'))).toBe(true);
    expect(await readdir(area)).toEqual(['key']);
  });
});

describe('children run through setpriv (they die with the harness)', () => {
  it('a missing program is still "failed to run", not an exit code', async () => {
    await expect(run('memmap-harness-no-such-program', [], { timeoutMs: 5_000 })).rejects.toThrow(/failed to run/);
  });
});

describe('waiting, interrupted', () => {
  it('an aborted signal ends the wait with an interruption, not a timeout', async () => {
    const dir = join(area, 'key');
    const held = await acquireEntryLock(dir);
    try {
      const controller = new AbortController();
      const waiting = acquireEntryLock(dir, { pollMs: 20, log: () => {}, signal: controller.signal });
      setTimeout(() => controller.abort('SIGINT'), 100);
      await expect(waiting).rejects.toThrow(/waiting for process \d+ to finish making .* interrupted \(SIGINT\)/);
    } finally {
      await held.release();
    }
  });
});
