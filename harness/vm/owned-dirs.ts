import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Private temp directories carry the pid of the harness process that made
 * them. A harness killed without running its handlers (SIGKILL) leaves its
 * directories behind — OVMF variable copies, sockets, file backends that can
 * hold gigabytes — so the next harness process sweeps every directory whose
 * owner is dead. A live run's directory is never touched, and neither is one
 * without an owner file (it may be being made right now).
 */
const OWNER_FILE = '.memmap-harness-owner';
/** Prefixes of the directories the harness makes in the temp directory. */
export const OWNED_PREFIXES = ['memmap-vm-', 'memmap-harness-run-'] as const;
/** One of the prefixes the sweeper knows. */
export type OwnedPrefix = (typeof OWNED_PREFIXES)[number];

/** Records this process as the owner of `dir`. */
export async function markOwned(dir: string): Promise<void> {
  await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
}

/** Gives `dir` up: without an owner file the sweeper never removes it (a scratch directory kept on purpose). */
export async function disown(dir: string): Promise<void> {
  await rm(join(dir, OWNER_FILE), { force: true });
}

/** Removes the harness directories in `root` whose owner process is gone; returns their paths. */
export async function sweepOrphans(root: string = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!OWNED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const dir = join(root, name);
    const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
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
