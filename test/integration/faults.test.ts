import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCase } from '../../harness/case/load.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import { testbed } from './testbed.ts';
import { alive, halfWrittenEntries, harnessDirs, keepLogsOnFailure, qemuChildren, waitFor, waitForQemu } from './faults-helpers.ts';

// Faults survived, on real QEMU and a real guest: each leaves no QEMU and no
// temp directory, and ends in a verdict of `error` with one clear reason.
const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const seedSpm = () => loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json'));
let work: string;
let qemu: QemuUnderTest;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-faults-'));
  const bed = testbed();
  qemu = { binary: bed.qemuV5, label: 'v5', firmwareDirs: bed.firmwareDirs };
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('faults', () => {
  it('the harness killed with SIGKILL mid-boot: QEMU dies with it, and the next run sweeps what it left', async () => {
    const tmp = await mkdtemp(join(work, 'tmp-'));
    const env = { TMPDIR: tmp };
    const harness = execa('node', [CLI, 'run', '--case', 'seed-spm', '--results', join(work, 'killed')], { cwd: REPO_ROOT, env, reject: false });
    const pid = harness.pid ?? 0;
    const qemuPid = await waitForQemu(pid);
    harness.kill('SIGKILL');
    await harness;
    // No handler ran: QEMU's exit-with-parent is what ends it.
    await waitFor('QEMU to exit', async () => ((await alive(qemuPid)) ? undefined : true), 15_000);
    expect(await harnessDirs(tmp)).not.toEqual([]);
    const next = await execa('node', [CLI, 'run', '--case', 'negative-memmap-type-bogus', '--results', join(work, 'next')], { cwd: REPO_ROOT, env, reject: false, all: true });
    expect(next.all).toMatch(/^PASS\s+negative-memmap-type-bogus/m);
    expect(await harnessDirs(tmp)).toEqual([]);
    expect(await halfWrittenEntries()).toEqual([]);
  });

  it('QEMU killed mid-boot: an error verdict naming the signal, nothing left', async () => {
    const tmp = await mkdtemp(join(work, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    keepLogsOnFailure(work);
    try {
      const verdict = runCase(await seedSpm(), { qemu, logDir: work });
      process.kill(await waitForQemu(process.pid), 'SIGKILL');
      const v = await verdict;
      expect(v.status).toBe('error');
      expect(v.reason).toMatch(/SIGKILL/);
      expect(await qemuChildren(process.pid)).toEqual([]);
      expect(await harnessDirs(tmp)).toEqual([]);
      expect(await halfWrittenEntries()).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('the guest does not finish in time: the timeout fires, an error verdict, nothing left', async () => {
    const tmp = await mkdtemp(join(work, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    keepLogsOnFailure(work);
    try {
      const v = await runCase(await seedSpm(), { qemu, logDir: work, bootTimeoutMs: 300 });
      expect(v.status).toBe('error');
      expect(v.reason).toMatch(/^guest did not finish: .*(300 ms|timed out|within)/i);
      expect(await qemuChildren(process.pid)).toEqual([]);
      expect(await harnessDirs(tmp)).toEqual([]);
      expect(await halfWrittenEntries()).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});
