import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCase } from '../../harness/case/load.ts';
import type { CaseSpec } from '../../harness/case/types.ts';
import { ensureDebianBinQemu } from '../../harness/qemu-build/debian-bin.ts';
import { silentReporter } from '../../harness/host/progress.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { testbed } from './testbed.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Upstream's -device sp-mem on a real QEMU 11.1 (Debian sid's 11.1.3 binary,
// run through its own sid root from the cache) with the minimal kernel, and on
// our 10.2.2 builds, which lack it. Each sp-mem case's own verdicts (pass on
// upstream-11.1, unsupported on the baseline) are the case runner's tests
// (`npx vitest run cases/sp-mem-*.json`); here: the CLI's path to them, what
// the runner does not assert (which checks ran, what the harness added, no boot
// without sp-mem), and a planted wrong expectation.
const SID_11_1_3 = 'debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid';
const cli = join(REPO_ROOT, 'bin', 'memmap-harness.js');
let sid: QemuUnderTest;
let seed: CaseSpec;
let work: string;

/** The part of report.json these tests read. */
interface ReportCase {
  name: string;
  status: string;
  reason?: string;
  serialLog?: string;
  addedByHarness?: string[];
  findings: { check: string; ok: boolean }[];
  run?: { qemuArgv?: string[]; profile?: string };
}

/** `memmap-harness run ARGS --results DIR`: its exit status, stdout and the cases of its report.json. */
async function cliRun(args: string[], results: string): Promise<{ exitCode: number | undefined; stdout: string; cases: ReportCase[] }> {
  const { exitCode, stdout } = await execa('node', [cli, 'run', ...args, '--results', results], { reject: false, timeout: scaledMs(600_000) });
  const report = JSON.parse(await readFile(join(results, 'report.json'), 'utf8')) as { cases: ReportCase[] };
  return { exitCode, stdout, cases: report.cases };
}

beforeAll(async () => {
  // Warm: a manifest read. Cold: debootstrap --download-only and unpacking, a few minutes.
  const { manifest } = await ensureDebianBinQemu(SID_11_1_3, { reporter: silentReporter });
  sid = { binary: manifest.binary, label: 'debian-bin-11.1.3', firmwareDirs: manifest.firmwareDirs };
  seed = await loadCase(join(REPO_ROOT, 'cases', 'sp-mem-seed.json'));
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-sp-mem-'));
}, scaledMs(600_000));

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sp-mem on QEMU 11.1.3', () => {
  it('run --source debian-bin: probes upstream-11.1 and passes sp-mem-seed with rows, query-memory-devices, plugged memory, Soft Reserved and the dax device', async () => {
    const { exitCode, stdout, cases } = await cliRun(['--source', SID_11_1_3, '--case', 'sp-mem-seed'], join(work, 'cli-sid'));
    expect(stdout).toContain('revision profile: upstream-11.1 (probed: no memmap-type + -device sp-mem → profile upstream-11.1: ');
    const [verdict] = cases;
    expect(verdict, JSON.stringify(verdict?.findings.filter((f) => !f.ok))).toMatchObject({ name: 'sp-mem-seed', status: 'pass', run: { profile: 'upstream-11.1' } });
    expect(exitCode).toBe(0);
    const checks = verdict?.findings.map((f) => f.check);
    for (const check of ['SRAT memory affinity rows', 'query-memory-devices kinds, nodes, addresses and sizes', 'query-memory-size-summary plugged-memory', '/proc/iomem Soft Reserved ranges', 'DAX devices']) {
      expect(checks).toContain(check);
    }
    expect(verdict?.addedByHarness).toEqual(['maxmem=24G', 'slots=2']);
    expect(verdict?.run?.qemuArgv).toContain('8G,maxmem=24G,slots=2');
  }, scaledMs(900_000));

  it('a planted wrong expectation (the device on node 0) fails with a row-level diff', async () => {
    const srat = (seed.expect.srat ?? []).map((r) => (r.start === 0x280000000n ? { ...r, node: 0, pxm: 0 } : r));
    const planted: CaseSpec = { ...seed, expect: { srat, e820: seed.expect.e820 }, onFirmware: undefined };
    // A log directory of its own: the same case name and QEMU would reuse another run's serial log path.
    const logDir = join(work, 'planted');
    await mkdir(logDir);
    const verdict = await runCase(planted, { qemu: sid, logDir, profile: 'upstream-11.1' });
    expect(verdict.status).toBe('fail');
    const finding = verdict.findings.find((f) => f.aspect === 'srat');
    expect(finding?.ok).toBe(false);
    expect(finding?.rows).toEqual([expect.objectContaining({ change: 'changed type', expected: expect.objectContaining({ node: 0 }), actual: expect.objectContaining({ node: 1 }) })]);
    expect(finding?.detail.join('\n')).toContain('expected node 0 PXM 0, got node 1 PXM 1');
  }, scaledMs(300_000));
});

describe('sp-mem on our 10.2.2 builds', () => {
  for (const which of ['qemuV5', 'qemuBaseline'] as const) {
    it(`${which}: run --set sp-mem says unsupported for every case, without booting, and exits 4`, async () => {
      const { exitCode, cases } = await cliRun(['--qemu', testbed()[which], '--set', 'sp-mem'], join(work, `cli-${which}`));
      expect(cases.map((c) => c.name)).toEqual(expect.arrayContaining(['sp-mem-seed', 'negative-sp-mem-no-maxmem']));
      for (const verdict of cases) {
        expect(verdict, verdict.name).toMatchObject({ status: 'unsupported', reason: expect.stringMatching(/no -device sp-mem/) });
        expect(verdict.serialLog, verdict.name).toBeUndefined();
      }
      expect(exitCode).toBe(4);
    }, scaledMs(300_000));
  }
});
