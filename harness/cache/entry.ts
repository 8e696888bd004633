import { mkdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Content-addressed cache entries. An entry is a directory that is complete if
 * and only if it holds `entry.json`. It is produced in a staging directory next
 * to it and published with one rename, so a crashed or interrupted producer
 * never leaves a directory that looks complete, and two producers racing for
 * one key cannot mix their files: the first rename wins, the loser's copy is
 * discarded.
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
 * Returns the entry at `dir`, producing it first when missing. `produce` fills
 * the staging directory it is given and returns the manifest to record.
 */
export async function ensureEntry<T>(dir: string, produce: (staging: string) => Promise<T>): Promise<T> {
  const existing = await readEntry<T>(dir);
  if (existing !== undefined) return existing;
  await mkdir(dirname(dir), { recursive: true });
  await removeStaleIncomplete(dir);
  const staging = join(dirname(dir), `.staging-${basename(dir)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  try {
    const manifest = await produce(staging);
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

/** A directory at the entry's path without a manifest is a leftover from an older layout: clear it. */
async function removeStaleIncomplete(dir: string): Promise<void> {
  const present = await stat(dir).then(() => true, () => false);
  if (present) await rm(dir, { recursive: true, force: true });
}
