import { rm, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { HarnessError } from '../util/errors.ts';

/** A fresh results directory for one run: results/<UTC timestamp>, under the given root (default ./results). */
export function newResultsDir(root = 'results', now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  return resolve(join(root, stamp));
}

// A case writes a serial log of 10-600 KiB and a few small reports; a run of every case stays well below this.
const MIN_FREE_BYTES = 16 * 1024 * 1024;

/** Bytes free for us on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

/**
 * Refuses, before anything runs, a results directory on a file system too
 * full for the serial logs (a truncated log would otherwise look like a guest
 * that stopped talking). Creates nothing: a run that fails early leaves no
 * empty results directory.
 */
export async function checkResultsSpace(dir: string): Promise<void> {
  const free = await freeBytes(await nearestExisting(dir));
  if (free < MIN_FREE_BYTES) {
    throw new HarnessError(`results directory ${dir} has only ${Math.floor(free / 1024)} KiB free (a run needs ${MIN_FREE_BYTES >> 20} MiB)`, 'free some space or pass --results on another file system');
  }
}

async function nearestExisting(dir: string): Promise<string> {
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (await stat(at).then(() => true, () => false)) return at;
    if (dirname(at) === at) return at;
  }
}

/** A failure to write into the results directory as one line (full disk, read-only, no permission). */
export function resultsWriteError(dir: string, error: unknown): HarnessError {
  const code = (error as NodeJS.ErrnoException).code;
  const why: Record<string, string> = { ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system', EACCES: 'permission denied' };
  const reason = (code && why[code]) ?? (error as Error).message;
  return new HarnessError(`cannot write results to ${dir}: ${reason}`, 'free some space or pass --results on another file system');
}

/** Removes the report files of a write that failed part-way, so no half-written report is left for a reader to trust. */
export async function removePartialReports(dir: string): Promise<void> {
  await Promise.all(['report.json', 'junit.xml', 'summary.md', 'svg'].map((name) => rm(join(dir, name), { recursive: true, force: true })));
}

/** When the results disk is full, the reason a guest run failed is that its serial log could not be written: say so. */
export async function withFullDiskNote(reason: string, logDir: string): Promise<string> {
  const free = await freeBytes(logDir).catch(() => undefined);
  return free === 0 ? `serial log not fully written: ${logDir} is full (no space left on device); ${reason}` : reason;
}
