import { mkdir, readdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { acquireEntryLock, isAlive, legacyOwnerOf, withLockIfFree, type LockWaitOptions } from './lock.ts';

/**
 * Content-addressed cache entries. An entry is a directory that is complete if
 * and only if it holds `entry.json`. It is produced in a staging directory next
 * to it and published with one rename, so a crashed or interrupted producer
 * never leaves a directory that looks complete. One process at a time produces
 * a key (an flock, see lock.ts): a second one waits and reuses the entry.
 * Should two ever produce at once (an older harness version that knows only
 * its pid files), they still cannot mix their files: the first rename wins,
 * the loser's copy is discarded. Staging and scratch directories carry their
 * key, so what a producer killed without cleanup (SIGKILL) left is swept by
 * whoever next holds that key's lock (nobody is producing it then).
 */
export const ENTRY_MANIFEST = 'entry.json';

/** Reads a complete entry's manifest, or undefined when the entry is absent or incomplete. */
export async function readEntry<T>(dir: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, ENTRY_MANIFEST), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * Fills `staging` (published as the entry) and returns the manifest to record.
 * `scratch` is an empty directory for intermediate files (an unpacked package,
 * a tree to pack), removed afterwards; like staging it sits in the cache area
 * and carries this process's pid, so a producer killed with SIGKILL leaves
 * nothing in the temp directory and its scratch is swept like its staging.
 */
export type Producer<T> = (staging: string, scratch: string) => Promise<T>;

/**
 * Returns the entry at `dir`, producing it first when missing (see Producer).
 */
export async function ensureEntry<T>(dir: string, produce: Producer<T>, lockOptions: LockWaitOptions & EntryCheck<T> = {}): Promise<T> {
  const existing = await readEntry<T>(dir);
  if (existing !== undefined && (await mismatchOf(existing, lockOptions)) === undefined) return existing;
  await mkdir(dirname(dir), { recursive: true });
  const lock = await acquireEntryLock(dir, lockOptions);
  try {
    // The process we waited for may have published it (or fetched a damaged one again).
    const published = await readEntry<T>(dir);
    if (published !== undefined) {
      const mismatch = await mismatchOf(published, lockOptions);
      if (mismatch === undefined) return published;
      (lockOptions.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(`memmap-harness: ${mismatch}; fetching it again`);
      await rm(dir, { recursive: true, force: true });
    }
    await sweepDeadStaging(dirname(dir), basename(dir));
    await removeStaleIncomplete(dir);
    return await produceAndPublish(dir, produce);
  } finally {
    await lock.release();
  }
}

/** For entries that hold downloads: how to tell, on reuse, that the files are still what was recorded. */
export interface EntryCheck<T> {
  /** A description of what no longer matches (e.g. a sha256), or undefined when the entry is sound. */
  verify?: (manifest: T) => Promise<string | undefined>;
}

async function mismatchOf<T>(manifest: T, check: EntryCheck<T>): Promise<string | undefined> {
  return check.verify ? check.verify(manifest) : undefined;
}

async function produceAndPublish<T>(dir: string, produce: Producer<T>): Promise<T> {
  const suffix = `${basename(dir)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(dirname(dir), `.staging-${suffix}`);
  const scratch = join(dirname(dir), `.scratch-${suffix}`);
  await mkdir(staging, { recursive: true });
  await mkdir(scratch, { recursive: true });
  try {
    const manifest = await produce(staging, scratch).finally(() => rm(scratch, { recursive: true, force: true }));
    // entry.json last, inside staging: the rename publishes a directory that is already complete.
    await writeFile(join(staging, ENTRY_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      await rename(staging, dir);
    } catch (error) {
      const winner = await readEntry<T>(dir);
      if (winner === undefined) throw error;
      await rm(staging, { recursive: true, force: true });
      return winner;
    }
    return manifest;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

// `.staging-<key>-<pid>-<hex>` and `.scratch-<key>-<pid>-<hex>` (the pid only tells whose it was).
const LEFTOVER = /^\.(?:staging|scratch)-(.+)-\d+-[0-9a-f]{8}$/;
// Older versions' pid-file locks and their drafts: `.lock-<key>`, `.lock-draft-<pid>-<hex>`, `.lock-broken-<pid>-<hex>`.
const LEGACY_DRAFT = /^\.lock-(?:draft|broken)-(\d+)-[0-9a-f]{8}$/;

/**
 * Removes what producers that died without cleaning up left in `area`: the
 * staging and scratch directories of every key whose lock nobody holds (and of
 * `heldKey`, whose lock the caller holds), and older versions' pid-file locks
 * of dead processes. Lock files (`.flock-<key>`) stay. Returns the names removed.
 */
export async function sweepDeadStaging(area: string, heldKey?: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(area).catch(() => [] as string[]);
  const byKey = new Map<string, string[]>();
  for (const name of names) {
    const key = LEFTOVER.exec(name)?.[1];
    if (key !== undefined) byKey.set(key, [...(byKey.get(key) ?? []), name]);
  }
  for (const [key, leftovers] of byKey) {
    const clear = async () => {
      for (const name of leftovers) await rm(join(area, name), { recursive: true, force: true });
      removed.push(...leftovers);
    };
    // An older harness version producing this key knows only its pid file: leave its staging alone.
    const legacyHolder = await legacyOwnerOf(join(area, `.lock-${key}`));
    if (legacyHolder !== undefined && isAlive(legacyHolder)) continue;
    if (key === heldKey) await clear();
    else await withLockIfFree(join(area, key), clear);
  }
  for (const name of names) {
    const draftPid = Number(LEGACY_DRAFT.exec(name)?.[1] ?? 0);
    const legacyLock = name.startsWith('.lock-') && draftPid === 0 ? await legacyOwnerOf(join(area, name)) : undefined;
    const deadLegacy = (draftPid > 0 && !isAlive(draftPid)) || (name.startsWith('.lock-') && draftPid === 0 && (legacyLock === undefined || !isAlive(legacyLock)));
    if (!deadLegacy) continue;
    await rm(join(area, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** A directory at the entry's path without a manifest is a leftover from an older layout: clear it. */
async function removeStaleIncomplete(dir: string): Promise<void> {
  const present = await stat(dir).then(() => true, () => false);
  if (present) await rm(dir, { recursive: true, force: true });
}
