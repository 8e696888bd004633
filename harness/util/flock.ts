import { spawn } from 'node:child_process';
import { HarnessError } from './errors.ts';
import { InterruptedError } from './subprocess.ts';

const LOCKED = 'locked';

/** How to wait for a lock another process holds. */
export interface FlockOptions {
  /** Give up after this long (rounded up to whole seconds); 0: do not wait at all. */
  timeoutMs: number;
  /** Aborting ends the wait at once with an InterruptedError. */
  signal?: AbortSignal;
  /** Called once the wait has lasted a second, then every `progressEveryMs`. */
  onWait?: () => void;
  /** Default 60 s. */
  progressEveryMs?: number;
  /** For messages: what is being waited for ("the QEMU build tree"). */
  what?: string;
}

/** A held lock: `release()` drops it (idempotent). */
export type FlockRelease = () => Promise<void>;

/** The lock was still held by another process when the wait ended. */
export class LockTimeoutError extends HarnessError {}

/**
 * Takes an exclusive flock(2) on `path` (created if missing) and returns its
 * release. The lock is held by a `flock … cat` child that lives as long as its
 * stdin: when this process ends in any way, SIGKILL included, the pipe closes,
 * the child exits and the kernel drops the lock. So there is never a stale
 * lock to detect by pid (a pid may be reused, or belong to another pid
 * namespace sharing the file system) and never a lock file to remove: lock
 * files stay where they are, and removing one would let two holders in.
 */
export async function acquireFlock(path: string, options: FlockOptions): Promise<FlockRelease> {
  const wait = options.timeoutMs <= 0 ? ['--nonblock'] : ['--timeout', String(Math.max(1, Math.ceil(options.timeoutMs / 1000)))];
  // The script is constant; the path is flock's own argument, never shell text.
  const child = spawn('flock', ['--exclusive', ...wait, path, 'sh', '-c', `echo ${LOCKED}; exec cat`], { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  let progress: NodeJS.Timeout | undefined;
  const firstNote = setTimeout(() => {
    options.onWait?.();
    progress = setInterval(() => options.onWait?.(), options.progressEveryMs ?? 60_000);
  }, 1_000);
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const locked = new Promise<boolean>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes(LOCKED) && resolve(true));
      void exited.then(() => resolve(false));
    });
    if (await locked) {
      let released: Promise<void> | undefined;
      return () => {
        released ??= (async () => {
          child.stdin.end();
          await exited;
        })();
        return released;
      };
    }
    const what = options.what ?? path;
    if (options.signal?.aborted) throw new InterruptedError(`waiting for ${what}`, String(options.signal.reason ?? 'aborted'));
    throw new LockTimeoutError(`could not lock ${what} within ${Math.ceil(options.timeoutMs / 1000)} s (flock exit ${await exited})`, 'another process holds it: wait for it, or stop it');
  } finally {
    clearTimeout(firstNote);
    clearInterval(progress);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Takes the lock only if nobody holds it; undefined when someone does. */
export async function tryFlock(path: string): Promise<FlockRelease | undefined> {
  return acquireFlock(path, { timeoutMs: 0 }).catch((error: unknown) => {
    if (error instanceof LockTimeoutError) return undefined;
    throw error;
  });
}
