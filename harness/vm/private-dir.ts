import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dir } from 'tmp-promise';
import { markOwned, releaseOwned, sweepOrphansOnce, type OwnedPrefix } from './owned-dirs.ts';

/** A 0700 temporary directory for one VM's sockets; removed by `remove()` on every exit path. */
export interface PrivateDir {
  /** The directory's path. */
  readonly path: string;
  /** Removes it and everything in it; idempotent. */
  remove(): Promise<void>;
  /** Synchronous removal, for signal and exit handlers. */
  removeNow(): void;
}

/**
 * Creates a private directory under `root` (default: the OS temp directory),
 * owned by this process; directories of dead harness processes there are swept first.
 * `prefix` must be one of OWNED_PREFIXES.
 */
export async function createPrivateDir(root?: string, prefix: OwnedPrefix = 'memmap-vm-'): Promise<PrivateDir> {
  await sweepOrphansOnce(root ?? tmpdir());
  const created = await dir({ unsafeCleanup: true, mode: 0o700, prefix, ...(root === undefined ? {} : { tmpdir: root }) });
  try {
    await markOwned(created.path);
  } catch (error) {
    await created.cleanup();
    throw error;
  }
  let removed = false;
  return {
    path: created.path,
    async remove() {
      if (removed) return;
      removed = true;
      await created.cleanup();
      await releaseOwned(created.path);
    },
    removeNow() {
      if (removed) return;
      removed = true;
      rmSync(created.path, { recursive: true, force: true });
      // The lock's holder ends with its pipe (at the latest when this process exits).
      void releaseOwned(created.path);
    },
  };
}
