import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireFlock, tryFlock, type FlockRelease } from '../util/flock.ts';

/**
 * The harness's temp directories hold an owner lock: a file inside them that
 * the harness process that made them keeps flock(2)ed for as long as it lives
 * (util/flock.ts). A harness killed without running its handlers (SIGKILL)
 * leaves its directories behind — OVMF variable copies, sockets, file backends
 * that can hold gigabytes — and the kernel drops its locks, so the next
 * harness process sweeps every directory whose lock it can take. A live run's
 * directory is never touched, nor one without a lock file (being made right
 * now, or kept on purpose), nor one another uid owns: as root the sweeper
 * would otherwise remove other users' runs in a shared /tmp.
 */
const LOCK_FILE = '.memmap-harness-lock';
/** Older versions wrote their pid here instead; their directories are swept when that pid is gone. */
const LEGACY_OWNER_FILE = '.memmap-harness-owner';
/** Prefixes of the directories the harness makes in the temp directory. */
export const OWNED_PREFIXES = ['memmap-vm-', 'memmap-harness-run-'] as const;
/** One of the prefixes the sweeper knows. */
export type OwnedPrefix = (typeof OWNED_PREFIXES)[number];

const held = new Map<string, FlockRelease>();

/** Makes this process the owner of `dir` (its lock held until disown or exit); the lock file names our pid, for people. */
export async function markOwned(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
  held.set(dir, await acquireFlock(path, { timeoutMs: 5_000, what: `the owner lock of ${dir}` }));
}

/** Drops the owner lock of `dir` (before removing it, or for good); idempotent. */
export async function releaseOwned(dir: string): Promise<void> {
  const release = held.get(dir);
  held.delete(dir);
  await release?.();
}

/** Gives `dir` up: without a lock file the sweeper never removes it (a scratch directory kept on purpose). */
export async function disown(dir: string): Promise<void> {
  await rm(join(dir, LOCK_FILE), { force: true });
  await releaseOwned(dir);
}

/** Removes this uid's harness directories in `root` whose owner is gone; returns their paths. */
export async function sweepOrphans(root: string = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!OWNED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const dir = join(root, name);
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
    if (await ownerGone(dir)) {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/** True when `dir`'s owner lock can be taken (its owner is dead), or its legacy owner pid is gone. */
async function ownerGone(dir: string): Promise<boolean> {
  const lockFile = join(dir, LOCK_FILE);
  if (await lstat(lockFile).then((s) => s.isFile(), () => false)) {
    const release = await tryFlock(lockFile);
    if (!release) return false;
    await release();
    return true;
  }
  const owner = Number((await readFile(join(dir, LEGACY_OWNER_FILE), 'utf8').catch(() => '')).trim());
  return Number.isInteger(owner) && owner > 0 && !isAlive(owner);
}

const swept = new Map<string, Promise<string[]>>();

/** sweepOrphans once per temp root per process (before the first directory is made). */
export function sweepOrphansOnce(root: string = tmpdir()): Promise<string[]> {
  let done = swept.get(root);
  if (done === undefined) {
    done = sweepOrphans(root);
    swept.set(root, done);
  }
  return done;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
