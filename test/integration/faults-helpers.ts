import { copyFile, mkdir, readdir, readFile, statfs } from 'node:fs/promises';
import { execa } from 'execa';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';
import { cacheRoot } from '../../harness/util/cache-dirs.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// What the fault tests look at after a fault: QEMU processes, temp entries,
// half-written cache entries. Read from /proc and the file system, never from
// the harness's own bookkeeping.

/** QEMU processes whose parent is `ppid` and that run a guest (the VM runner's serial chardev; not a capability probe), from /proc. */
export async function qemuChildren(ppid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0 || !stat.slice(stat.indexOf('(') + 1, close).startsWith('qemu-system')) continue;
    if (Number(stat.slice(close + 2).split(' ')[1]) !== ppid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('file,id=serial0')) found.push(Number(entry));
  }
  return found;
}

/** Processes whose command line mentions `needle` (e.g. a private cache root), from /proc. */
export async function processesMentioning(needle: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (cmdline.includes(needle) || environ.includes(needle)) found.push(Number(entry));
  }
  return found;
}

/** True while the process exists and is not a zombie. */
export const alive = (pid: number): Promise<boolean> => readFile(`/proc/${pid}/stat`, 'utf8').then((s) => !/^\d+ \(.*\) Z/.test(s), () => false);

/** The harness's own temp entries in `dir` (memmap-vm-*, memmap-harness-run-*, …). */
export const harnessDirs = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('memmap-'));

// The cache areas made of harness/cache/entry.ts entries (ccache, apt lists and kept logs are not entries).
const ENTRY_AREAS = ['qemu', 'qemu-bin', 'kernels', 'initramfs', 'firmware', 'debs', 'downloads', 'sources'];

/**
 * Half-written cache entries under a cache root: staging dirs and (older
 * versions') pid lock files of dead processes, and entry directories without entry.json. What live processes
 * (other developers' runs on the shared cache) are making right now is not counted.
 */
export async function halfWrittenEntries(root: string = cacheRoot()): Promise<string[]> {
  const found: string[] = [];
  for (const area of ENTRY_AREAS) {
    for (const name of await readdir(join(root, area)).catch(() => [] as string[])) {
      const path = join(root, area, name);
      // flock files stay by design (util/flock.ts): never half of anything.
      if (name.startsWith('.flock-')) continue;
      if (name.startsWith('.')) {
        if (!(await ownerAlive(name, path))) found.push(join(area, name));
      } else if (!name.endsWith('.json') && !(await readFile(join(path, 'entry.json')).then(() => true, () => false))) {
        found.push(join(area, name));
      }
    }
  }
  return found;
}

/** The owner of a staging dir (pid in its name) or a lock (pid inside) is still running. */
async function ownerAlive(name: string, path: string): Promise<boolean> {
  const fromName = /-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1];
  const pid = Number(fromName ?? (await readFile(path, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && (await alive(pid));
}

/** Polls `probe` every 200 ms until it returns a value; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + scaledMs(timeoutMs);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits for QEMU started by `ppid` to run a guest; returns its pid. */
export async function waitForQemu(ppid: number, timeoutMs = 120_000): Promise<number> {
  const [pid] = await waitFor('QEMU to start', async () => ((await qemuChildren(ppid)).length > 0 ? qemuChildren(ppid) : undefined), timeoutMs);
  return pid!;
}

/**
 * Keeps the serial logs in `logDir` when the current test fails: copied to
 * results/kept-logs/<test>-<time>/ (outside the test's temp dirs, which are
 * removed), and the path printed, so a flaky guest run can be read afterwards.
 * Call inside a test, before the run.
 */
export function keepLogsOnFailure(logDir: string): void {
  onTestFailed(async ({ task }) => {
    const slug = task.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60);
    const kept = join(REPO_ROOT, 'results', 'kept-logs', `${slug}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const logs = (await readdir(logDir).catch(() => [] as string[])).filter((n) => n.endsWith('.serial.log'));
    if (logs.length === 0) return;
    await mkdir(kept, { recursive: true });
    for (const name of logs) await copyFile(join(logDir, name), join(kept, name));
    console.error(`serial logs of the failed run kept in ${kept}`);
  });
}

/** Fills the file system holding `dir` to its last byte with one preallocated file at `path`. */
export async function fillFileSystem(path: string, dir: string): Promise<void> {
  const fs = await statfs(dir);
  await execa('fallocate', ['-l', String(fs.bavail * fs.bsize), path]);
  const left = await statfs(dir);
  if (left.bavail !== 0) throw new Error(`${dir} still has ${left.bavail * left.bsize} bytes free after filling it`);
}
