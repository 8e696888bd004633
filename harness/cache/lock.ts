import { open, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import { acquireFlock, LockTimeoutError, tryFlock } from '../util/flock.ts';
import { InterruptedError } from '../util/subprocess.ts';

/**
 * One producer per cache entry across processes: an flock(2) on a lock file
 * next to the entry (util/flock.ts). The kernel drops it when its holder dies
 * however it dies, so there is no stale lock to break and no pid to trust: a
 * pid file misjudges a reused pid (a 90-minute wait) or a pid from another
 * pid namespace sharing the cache (a live lock broken). The holder writes its
 * pid into the file for messages only, and empties it on release; a pid still
 * there when the next producer gets the lock says that producer died.
 */

/** How a waiter behaves. */
export interface LockWaitOptions {
  /** Give up after this long; default MEMMAP_HARNESS_LOCK_TIMEOUT_MS or 90 min (a cold QEMU and kernel build on two busy cores). */
  timeoutMs?: number;
  /** Where the waiting lines go; default stderr. */
  log?: (line: string) => void;
  /** How often to say it is still waiting; default 60 s. */
  progressEveryMs?: number;
  /** Aborting it (Ctrl-C under withInterruptsAsAbort) ends the wait at once. */
  signal?: AbortSignal;
}

/** A held lock: release it once the entry is published (or production failed). */
export interface HeldLock {
  readonly path: string;
  /** The pid the file named when we got the lock: a producer that died holding it. */
  readonly diedOwner: number | undefined;
  release(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 90 * 60_000;

/** The lock file of the entry at `entryDir`: hidden, beside it, so listings of the area show entries only. */
export function lockPathFor(entryDir: string): string {
  return join(dirname(entryDir), `.flock-${basename(entryDir)}`);
}

/**
 * The pid file older harness versions locked an entry with (made by link(2),
 * removed on release). While such a version may still share the cache, a
 * live one's file is waited for after the flock is taken; a dead one's is
 * removed by the sweep (entry.ts).
 */
export function legacyLockPathFor(entryDir: string): string {
  return join(dirname(entryDir), `.lock-${basename(entryDir)}`);
}

/** The lock timeout from the environment, or the default. */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MEMMAP_HARNESS_LOCK_TIMEOUT_MS;
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_MS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new HarnessError(`MEMMAP_HARNESS_LOCK_TIMEOUT_MS must be a positive whole number of milliseconds, not '${raw}'`);
  return value;
}

/** Takes the lock of `entryDir`, waiting (with progress lines and a timeout) while another process holds it. */
export async function acquireEntryLock(entryDir: string, options: LockWaitOptions = {}): Promise<HeldLock> {
  const path = lockPathFor(entryDir);
  const timeoutMs = options.timeoutMs ?? lockTimeoutMs();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  let owner: number | undefined;
  const waited = () => Math.round((Date.now() - started) / 1000);
  let release: () => Promise<void>;
  try {
    release = await acquireFlock(path, {
      timeoutMs,
      signal: options.signal,
      progressEveryMs: options.progressEveryMs,
      onWait: () => {
        void ownerOf(path).then((pid) => {
          owner = pid ?? owner;
          log(`memmap-harness: waiting for ${describe(owner)}, which is making ${entryDir} (${waited()} s so far, up to ${Math.round(timeoutMs / 1000)} s)`);
        });
      },
    });
  } catch (error) {
    owner = (await ownerOf(path)) ?? owner;
    if (error instanceof InterruptedError) throw new InterruptedError(`waiting for ${describe(owner)} to finish making ${entryDir}`, String(options.signal?.reason ?? 'aborted'));
    if (error instanceof LockTimeoutError) {
      throw new HarnessError(`waited ${waited()} s for ${describe(owner)} to finish making ${entryDir}`, `if ${describe(owner)} is stuck, end it (the kernel then drops its lock) or raise MEMMAP_HARNESS_LOCK_TIMEOUT_MS`);
    }
    throw error;
  }
  try {
    await waitForLegacyHolder(entryDir, { log, timeoutMs, started, signal: options.signal });
  } catch (error) {
    await release();
    throw error;
  }
  const diedOwner = await ownerOf(path);
  if (diedOwner !== undefined) log(`memmap-harness: took over the lock of dead process ${diedOwner} on ${entryDir}`);
  await writeOwner(path, `${process.pid}\n`);
  let done = false;
  return {
    path,
    diedOwner,
    async release() {
      if (done) return;
      done = true;
      await writeOwner(path, '').catch(() => {});
      await release();
    },
  };
}

/** True when nobody holds `entryDir`'s lock right now (it is taken and dropped at once). */
export async function isUnlocked(entryDir: string): Promise<boolean> {
  const release = await tryFlock(lockPathFor(entryDir));
  if (!release) return false;
  await release();
  return true;
}

/** Runs `work` under the lock of `entryDir` if nobody holds it; undefined (and no work) when someone does. */
export async function withLockIfFree<T>(entryDir: string, work: () => Promise<T>): Promise<T | undefined> {
  const release = await tryFlock(lockPathFor(entryDir));
  if (!release) return undefined;
  try {
    return await work();
  } finally {
    await release();
  }
}

/** Waits while a live process of an older harness version holds the entry's pid-file lock. */
async function waitForLegacyHolder(entryDir: string, o: { log: (line: string) => void; timeoutMs: number; started: number; signal?: AbortSignal }): Promise<void> {
  let said = 0;
  for (;;) {
    const pid = await ownerOf(legacyLockPathFor(entryDir));
    if (pid === undefined || !isAlive(pid)) return;
    if (o.signal?.aborted) throw new InterruptedError(`waiting for process ${pid} to finish making ${entryDir}`, String(o.signal.reason ?? 'aborted'));
    const waited = Date.now() - o.started;
    if (waited >= o.timeoutMs) throw new HarnessError(`waited ${Math.round(waited / 1000)} s for process ${pid} (an older harness) to finish making ${entryDir}`, `if process ${pid} is stuck, end it or raise MEMMAP_HARNESS_LOCK_TIMEOUT_MS`);
    if (Date.now() - said >= 60_000) {
      o.log(`memmap-harness: waiting for process ${pid} (an older harness), which is making ${entryDir}`);
      said = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** True when a process with this pid exists (EPERM: it exists but is someone else's); for legacy pid files only. */
export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a legacy lock file names, or undefined. */
export const legacyOwnerOf = (path: string): Promise<number | undefined> => ownerOf(path);

function describe(owner: number | undefined): string {
  return owner === undefined ? 'another process' : `process ${owner}`;
}

/** The pid the lock file names, for messages; undefined when empty or not a pid. */
async function ownerOf(path: string): Promise<number | undefined> {
  const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Rewrites the lock file in place: never replaced, since the flock is on this very inode. */
async function writeOwner(path: string, text: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(0);
    await handle.write(text, 0);
  } finally {
    await handle.close();
  }
}
