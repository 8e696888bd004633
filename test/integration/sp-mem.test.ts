import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCase, loadCases } from '../../harness/case/load.ts';
import { loadCaseSet } from '../../harness/case/sets.ts';
import type { CaseSpec } from '../../harness/case/types.ts';
import { ensureDebianBinQemu } from '../../harness/qemu-build/debian-bin.ts';
import { silentReporter } from '../../harness/qemu-build/progress.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { testbed } from './testbed.ts';

// Upstream's -device sp-mem on a real QEMU 11.1 (Debian sid's 11.1.3 binary,
// run through its own sid root from the cache) with the minimal kernel, and on
// our 10.2.2 builds, which lack it.
const SID_11_1_3 = 'debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid';
let sid: QemuUnderTest;
let seed: CaseSpec;
let work: string;

beforeAll(async () => {
  // Warm: a manifest read. Cold: debootstrap --download-only and unpacking, a few minutes.
  const { manifest } = await ensureDebianBinQemu(SID_11_1_3, { reporter: silentReporter });
  sid = { binary: manifest.binary, label: 'debian-bin-11.1.3', firmwareDirs: manifest.firmwareDirs };
  seed = await loadCase(join(REPO_ROOT, 'cases', 'sp-mem-seed.json'));
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-sp-mem-'));
}, 600_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sp-mem on QEMU 11.1.3', () => {
  it('the sp-mem set passes; sp-mem-seed with rows, query-memory-devices, plugged memory, Soft Reserved and the dax device', async () => {
    const casesDir = join(REPO_ROOT, 'cases');
    const specs = await loadCases(casesDir, await loadCaseSet(casesDir, 'sp-mem'));
    for (const spec of specs) {
      const logDir = join(work, spec.name);
      await mkdir(logDir);
      // The matrix's revision for this QEMU (`run` gets one from the probe): the model cases need one.
      const verdict = await runCase(spec, { qemu: sid, logDir, profile: 'upstream-11.1' });
      expect(verdict.status, `${spec.name}: ${verdict.reason ?? ''} ${JSON.stringify(verdict.findings.filter((f) => !f.ok))}`).toBe('pass');
      if (spec.name !== 'sp-mem-seed') continue;
      const checks = verdict.findings.map((f) => f.check);
      for (const check of ['SRAT memory affinity rows', 'query-memory-devices kinds, nodes, addresses and sizes', 'query-memory-size-summary plugged-memory', '/proc/iomem Soft Reserved ranges', 'DAX devices']) {
        expect(checks).toContain(check);
      }
      expect(verdict.addedByHarness).toEqual(['maxmem=24G', 'slots=2']);
      expect(verdict.qemuArgs).toContain('8G,maxmem=24G,slots=2');
    }
  }, 900_000);

  it('a planted wrong expectation (the device on node 0) fails with a row-level diff', async () => {
    const srat = (seed.expect.srat ?? []).map((r) => (r.start === 0x280000000n ? { ...r, node: 0, pxm: 0 } : r));
    const planted: CaseSpec = { ...seed, expect: { srat, e820: seed.expect.e820 }, onFirmware: undefined };
    // A log directory of its own: the same case name and QEMU would reuse the set's serial log path.
    const logDir = join(work, 'planted');
    await mkdir(logDir);
    const verdict = await runCase(planted, { qemu: sid, logDir });
    expect(verdict.status).toBe('fail');
    const finding = verdict.findings.find((f) => f.aspect === 'srat');
    expect(finding?.ok).toBe(false);
    expect(finding?.rows).toEqual([expect.objectContaining({ change: 'changed type', expected: expect.objectContaining({ node: 0 }), actual: expect.objectContaining({ node: 1 }) })]);
    expect(finding?.detail.join('\n')).toContain('expected node 0 PXM 0, got node 1 PXM 1');
  }, 300_000);
});

describe('sp-mem on our 10.2.2 builds', () => {
  for (const which of ['qemuV5', 'qemuBaseline'] as const) {
    it(`${which}: unsupported, not fail or error, without booting`, async () => {
      const bed = testbed();
      const verdict = await runCase(seed, { qemu: { binary: bed[which], label: which, firmwareDirs: bed.firmwareDirs }, logDir: work });
      expect(verdict.status).toBe('unsupported');
      expect(verdict.reason).toMatch(/no -device sp-mem/);
      expect(verdict.serialLog).toBeUndefined();
    }, 120_000);
  }
});
