import { link, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HarnessError } from '../util/errors.ts';
import { InterruptedError } from '../util/subprocess.ts';

/**
 * One producer per cache entry across processes: a lock file next to the
 * entry holds its owner's pid. A second harness that wants the same entry
 * waits (with a progress line and a timeout) and then reuses what the first
 * published; a lock whose owner is dead (SIGKILL, power loss) is broken.
 */

/** How a waiter behaves. */
export interface LockWaitOptions {
  /** Give up after this long; default MEMMAP_HARNESS_LOCK_TIMEOUT_MS or 90 min (a cold QEMU and kernel build on two busy cores). */
  timeoutMs?: number;
  /** Where the waiting lines go; default stderr. */
  log?: (line: string) => void;
  /** How often to look at the lock; default 500 ms. */
  pollMs?: number;
  /** How often to say it is still waiting; default 60 s. */
  progressEveryMs?: number;
  /** Aborting it (Ctrl-C under withInterruptsAsAbort) ends the wait at once. */
  signal?: AbortSignal;
}

/** A held lock: release it once the entry is published (or production failed). */
export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 90 * 60_000;

/** The lock file of the entry at `entryDir`: hidden, beside it, so listings of the area show entries only. */
export function lockPathFor(entryDir: string): string {
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

/** Takes the lock of `entryDir`, waiting for a live owner and breaking a dead owner's lock. */
export async function acquireEntryLock(entryDir: string, options: LockWaitOptions = {}): Promise<HeldLock> {
  const path = lockPathFor(entryDir);
  const timeoutMs = options.timeoutMs ?? lockTimeoutMs();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pollMs = options.pollMs ?? 500;
  const progressEveryMs = options.progressEveryMs ?? 60_000;
  const started = Date.now();
  let lastSaid = 0;
  for (;;) {
    if (await tryCreate(path)) return held(path);
    const owner = await ownerOf(path);
    if (owner === undefined) continue; // released between our attempt and the read
    if (!isAlive(owner)) {
      await breakStale(path, owner);
      log(`memmap-harness: broke the lock of dead process ${owner} on ${entryDir}`);
      continue;
    }
    if (options.signal?.aborted) throw new InterruptedError(`waiting for process ${owner} to finish making ${entryDir}`, String(options.signal.reason ?? 'aborted'));
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      throw new HarnessError(`waited ${Math.round(waited / 1000)} s for process ${owner} to finish making ${entryDir}`, `if process ${owner} is stuck, end it (its lock ${path} is then broken) or raise MEMMAP_HARNESS_LOCK_TIMEOUT_MS`);
    }
    if (lastSaid === 0 || Date.now() - lastSaid >= progressEveryMs) {
      log(`memmap-harness: waiting for process ${owner}, which is making ${entryDir} (${Math.round(waited / 1000)} s so far, up to ${Math.round(timeoutMs / 1000)} s)`);
      lastSaid = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, timeoutMs - waited))));
  }
}

/** Creates the lock atomically with our pid already in it (write a private file, then link: no empty lock is ever visible). */
async function tryCreate(path: string): Promise<boolean> {
  const draft = join(dirname(path), `.lock-draft-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(draft, `${process.pid}\n`);
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(draft).catch(() => {});
  }
}

async function ownerOf(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  // A lock always carries a pid (tryCreate links a complete file); anything else is not ours to trust: treat as dead.
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/** Removes the lock at `path` when its owner is dead (the sweep's job for keys nobody asks for again); true when removed. */
export async function removeIfOwnerDead(path: string): Promise<boolean> {
  const owner = await ownerOf(path);
  if (owner === undefined || isAlive(owner)) return false;
  await breakStale(path, owner);
  return true;
}

/**
 * Moves the dead owner's lock aside and checks that what was moved is still
 * that owner's: two waiters may break the same lock, and the slower one must
 * not throw away the lock the faster one has just taken.
 */
async function breakStale(path: string, deadOwner: number): Promise<void> {
  const aside = join(dirname(path), `.lock-broken-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(path, aside);
  } catch {
    return; // someone else broke or released it
  }
  const moved = await ownerOf(aside);
  if (moved !== deadOwner && moved !== undefined && moved !== 0 && isAlive(moved)) {
    // A live lock was taken by mistake: put it back unless another was made meanwhile.
    await link(aside, path).catch(() => {});
  }
  await rm(aside, { force: true });
}

function held(path: string): HeldLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      await unlink(path).catch(() => {});
    },
  };
}

/** True when a process with this pid exists (EPERM: it exists but is someone else's). */
export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
