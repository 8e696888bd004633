import { spawn } from 'node:child_process';
import { HarnessError } from '../util/errors.ts';
import { InterruptedError } from '../util/subprocess.ts';

const LOCKED = 'locked';

/**
 * Takes an exclusive flock(2) on `path` and returns its release. The lock is
 * held by a `flock … cat` child that lives as long as its stdin: when this
 * process ends in any way, the pipe closes, the child exits and the kernel
 * drops the lock, so there is never a stale lock to clean up or race over.
 * Waits up to `timeoutMs` for another holder.
 */
export async function acquireLock(path: string, options: { timeoutMs: number; signal?: AbortSignal; onWait?: () => void }): Promise<() => Promise<void>> {
  const seconds = String(Math.max(1, Math.ceil(options.timeoutMs / 1000)));
  // The script is constant; the path is flock's own argument, never shell text.
  const child = spawn('flock', ['--exclusive', '--timeout', seconds, path, 'sh', '-c', `echo ${LOCKED}; exec cat`], { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  const waitNote = setTimeout(() => options.onWait?.(), 1_000);
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const locked = new Promise<boolean>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes(LOCKED) && resolve(true));
      void exited.then(() => resolve(false));
    });
    if (await locked) {
      return async () => {
        child.stdin.end();
        await exited;
      };
    }
    if (options.signal?.aborted) throw new InterruptedError('waiting for the QEMU build tree', String(options.signal.reason ?? 'aborted'));
    throw new HarnessError(`could not lock ${path} within ${seconds} s (flock exit ${await exited})`, 'another build holds the tree: wait for it, or stop it');
  } finally {
    clearTimeout(waitNote);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
