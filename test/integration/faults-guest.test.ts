import { execa } from 'execa';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCase } from '../../harness/case/load.ts';
import type { Verdict } from '../../harness/core/vocabulary.ts';
import { runCase, type CaseRunOptions, type QemuUnderTest } from '../../harness/run/run-case.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { runStem } from '../../harness/report/cell.ts';
import { fillFileSystem, halfWrittenEntries, harnessDirs, keepLogsOnFailure, qemuChildren, waitFor, waitForQemu } from './faults-helpers.ts';
import { testbed } from './testbed.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Faults of the guest, of QEMU and of the results disk, on real QEMU and a real
// guest (seed-spm: OVMF, the minimal kernel, the full probe). Each ends in a
// verdict of `error` with one clear reason and leaves no QEMU, no temp entry
// and no half-written cache entry.
const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const SYSTEM_TMP = tmpdir();
let work: string;
let qemu: QemuUnderTest;

beforeAll(async () => {
  work = await mkdtemp(join(SYSTEM_TMP, 'memmap-harness-faults-guest-'));
  const bed = testbed();
  qemu = { binary: bed.qemuV5, label: 'v5', firmwareDirs: bed.firmwareDirs, ownSeries: 'v5' };
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** Runs seed-spm in this process with TMPDIR pointed at a fresh dir; `during` gets QEMU's pid and the log dir once QEMU runs. */
async function runWithFault(options: Partial<CaseRunOptions>, during?: (qemuPid: number, logDir: string) => Promise<void>, logDir?: string): Promise<{ verdict: Verdict; tmp: string }> {
  const tmp = await mkdtemp(join(work, 'tmp-'));
  logDir ??= await mkdtemp(join(work, 'logs-'));
  keepLogsOnFailure(logDir);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const running = runCase(await loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json')), { qemu, logDir, ...options });
    if (during) await during(await waitForQemu(process.pid), logDir as string);
    return { verdict: await running, tmp };
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** Nothing left: no QEMU of ours, no temp entry, no half-written cache entry. */
async function expectNothingLeft(tmp: string): Promise<void> {
  expect(await qemuChildren(process.pid)).toEqual([]);
  expect(await harnessDirs(tmp)).toEqual([]);
  expect(await halfWrittenEntries()).toEqual([]);
}

/** Resolves once the guest kernel has printed its banner into the serial log (QMP is up and the guest runs). */
async function guestKernelStarted(logDir: string): Promise<void> {
  await waitFor('the guest kernel to start', async () => {
    for (const name of await readdir(logDir)) if ((await readFile(join(logDir, name), 'latin1')).includes('Linux version')) return true;
    return undefined;
  }, scaledMs(120_000));
}

describe('guest and QEMU faults', () => {
  it('a kernel panic (no init): an error naming the panic, at once rather than at the timeout', async () => {
    const started = Date.now();
    const { verdict, tmp } = await runWithFault({ kernelArgs: ['rdinit=/no-such-init'] });
    expect(verdict.status).toBe('error');
    expect(verdict.reason).toMatch(/^guest kernel panic: Kernel panic - not syncing: \S/);
    expect(verdict.reason?.split('\n')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(scaledMs(120_000)); // the boot timeout is 180 s
    await expectNothingLeft(tmp);
  });

  it('a serial log left at the path by an earlier run is not read as this run\'s console', async () => {
    // A complete real log (probe done and all) where this run's log goes; this run's guest then panics.
    const logDir = await mkdtemp(join(work, 'logs-'));
    const stale = join(logDir, `${runStem({ name: 'seed-spm', qemu: 'v5', machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1' })}.serial.log`);
    await copyFile(join(REPO_ROOT, 'test', 'fixtures', 'serial', 'bookworm-6.1-ovmf-sid-q35-two-node.log'), stale);
    const { verdict, tmp } = await runWithFault({ kernelArgs: ['rdinit=/no-such-init'] }, undefined, logDir);
    expect(verdict.serialLog).toBe(stale);
    expect(verdict.status).toBe('error');
    expect(verdict.reason).toMatch(/^guest kernel panic: /);
    await expectNothingLeft(tmp);
  });

  it('QEMU quits mid-run (SIGTERM: the same clean quit as QMP `quit`, closing QMP): an error with QEMU\'s own words', async () => {
    const { verdict, tmp } = await runWithFault({}, async (pid, logDir) => {
      await guestKernelStarted(logDir);
      process.kill(pid, 'SIGTERM');
    });
    expect(verdict.status).toBe('error');
    expect(verdict.reason).toMatch(/^guest did not finish: QEMU exited \(exit code 0\) before the console printed .*terminating on signal 15/);
    await expectNothingLeft(tmp);
  });

  it('QEMU told to quit while it starts (stopped, SIGTERM, continued): an error that says QEMU went away, never that it refused', async () => {
    // Stopped as soon as it exists, QEMU gets SIGTERM while the harness waits on QMP; continued, it quits at
    // whatever point it has reached (QMP negotiation, the queries or the boot: the timing is not ours to pick).
    const { verdict, tmp } = await runWithFault({}, async (pid) => {
      process.kill(pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 2_000));
      process.kill(pid, 'SIGTERM');
      process.kill(pid, 'SIGCONT');
    });
    expect(verdict.status).toBe('error');
    expect(verdict.reason).toMatch(/terminating on signal 15/);
    expect(verdict.reason).not.toMatch(/refused/);
    await expectNothingLeft(tmp);
  });
});

describe('a full results disk', () => {
  let mountPoint: string;
  beforeAll(async () => {
    mountPoint = await mkdtemp(join(work, 'disk-'));
    // 24 MiB: above the run's 16 MiB minimum, so the run starts; the test then fills it.
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    await execa('umount', [mountPoint], { reject: false });
  });

  it('full before the run: one line, nothing run, nothing written', async () => {
    const results = join(mountPoint, 'before');
    const filler = join(mountPoint, 'filler-before');
    await fillFileSystem(filler, mountPoint);
    try {
      const run = await execa('node', [CLI, 'run', '--case', 'seed-spm', '--qemu', qemu.binary, '--profile', 'v5', '--results', results], { cwd: REPO_ROOT, reject: false, all: true, timeout: scaledMs(120_000) });
      expect(run.exitCode).toBe(3); // an infrastructure error (harness/util/exit-codes.ts)
      expect(run.all?.trim().split('\n')).toEqual([expect.stringMatching(/^memmap-harness: results directory .* has only \d+ KiB free .*; free some space or pass --results/)]);
      expect(await readdir(mountPoint)).toEqual(['filler-before']);
      expect(await halfWrittenEntries()).toEqual([]);
    } finally {
      await rm(filler, { force: true });
    }
  });

  it('full during the run: the verdict says the log could not be written, then one error line, no half-written report', async () => {
    const results = join(mountPoint, 'during');
    await mkdir(results);
    const run = execa('node', [CLI, 'run', '--case', 'seed-spm', '--qemu', qemu.binary, '--profile', 'v5', '--results', results], { cwd: REPO_ROOT, reject: false, all: true, timeout: scaledMs(600_000) });
    await waitForQemu(run.pid ?? 0);
    await fillFileSystem(join(mountPoint, 'filler-during'), mountPoint);
    const done = await run;
    expect(done.exitCode).toBe(3); // the run broke and nothing failed: infrastructure
    const lines = (done.all ?? '').trim().split('\n');
    expect(lines.filter((l) => /^ERROR\s+seed-spm/.test(l))).toHaveLength(1);
    expect(done.all).toMatch(/serial log not fully written: .* is full \(no space left on device\)/);
    expect(lines.at(-1)).toMatch(/^memmap-harness: cannot write results to .*: no space left on device; /);
    expect((await readdir(results)).filter((n) => !n.endsWith('.serial.log'))).toEqual([]);
    expect(await qemuChildren(run.pid ?? 0)).toEqual([]);
    expect(await halfWrittenEntries()).toEqual([]);
  });
});
