import { acquireFlock, type FlockRelease } from '../util/flock.ts';

/**
 * Takes an exclusive flock(2) on a build tree's `path` and returns its release
 * (see util/flock.ts: held by a child that dies with this process, so there is
 * never a stale lock). Waits up to `timeoutMs` for another holder.
 */
export function acquireLock(path: string, options: { timeoutMs: number; signal?: AbortSignal; onWait?: () => void }): Promise<FlockRelease> {
  return acquireFlock(path, { ...options, what: 'the QEMU build tree' });
}
