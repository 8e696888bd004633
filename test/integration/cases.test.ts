import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCase } from '../../harness/case/load.ts';
import type { CaseSpec } from '../../harness/case/types.ts';
import { formatVerdict } from '../../harness/report/console.ts';
import { runCase } from '../../harness/run/run-case.ts';
import { childProcesses } from '../fixtures/qmp/qemu-env.ts';
import { integrationTest as it } from './fixtures.ts';

// The seed's three cases end to end: real QEMU (patched and baseline), real
// kernel, real firmware, QMP and serial, as a patch author runs them. Every
// temp dir the runs make goes to the file's private TMPDIR, so "nothing left
// behind" sees only ours.
const seed = (name: string) => loadCase(join(REPO_ROOT, 'cases', `${name}.json`));

describe('the seed cases on the patched build (v5 series, OVMF sid)', () => {
  for (const name of ['seed-spm', 'seed-reserved', 'seed-normal']) {
    it(`${name} passes`, async ({ qemu, workDir: logDir, privateTmp: _tmp }) => {
      const verdict = await runCase(await seed(name), { qemu: qemu.v5, logDir });
      expect(formatVerdict(verdict).join('\n')).toMatch(/^PASS/);
      expect(verdict.status).toBe('pass');
      expect(verdict.findings.length).toBeGreaterThanOrEqual(6);
    });
  }

  it('seed-spm on SeaBIOS passes with the firmware variant: the soft reserved range is absent from E820, SRAT unchanged', async ({ qemu, workDir: logDir, privateTmp: _tmp }) => {
    const verdict = await runCase(await seed('seed-spm'), { qemu: qemu.v5, logDir, firmware: 'seabios-bookworm', transport: 'websocket' });
    expect(verdict.status).toBe('pass');
    expect(verdict.firmwareVariant).toMatch(/SeaBIOS/);
    expect(verdict.e820.some((e) => e.type === 0xefffffff)).toBe(false);
    expect(verdict.srat.some((s) => s.node === 1 && s.start === 0x280000000n && s.end === 0x47fffffffn)).toBe(true);
  });
});

describe('the baseline (same QEMU without the series)', () => {
  it('reports spm and reserved as unsupported, not as failures', async ({ qemu, workDir: logDir, privateTmp: _tmp }) => {
    for (const name of ['seed-spm', 'seed-reserved']) {
      const verdict = await runCase(await seed(name), { qemu: qemu.baseline, logDir });
      expect(verdict.status).toBe('unsupported');
      expect(verdict.reason).toMatch(/patch not applied/);
    }
  });

  it('reproduces the seed normal map: without memmap-type the series changes nothing', async ({ qemu, workDir: logDir, privateTmp: _tmp }) => {
    const verdict = await runCase(await seed('seed-normal'), { qemu: qemu.baseline, logDir });
    expect(verdict.status).toBe('pass');
  });
});

describe('a deliberately wrong expectation', () => {
  it('fails with a readable row diff and keeps the serial log', async ({ qemu, workDir: logDir, privateTmp: _tmp }) => {
    const wrong: CaseSpec = structuredClone(await seed('seed-spm'));
    wrong.name = 'seed-spm-wrong';
    // Claim the spm node is reserved: the run must show a changed type, in human units.
    wrong.expect.e820 = {
      scope: 'above-4g',
      rows: (wrong.expect.e820?.rows ?? []).map((r) => (r.type === 0xefffffff ? { ...r, type: 2 } : r)),
    };
    const verdict = await runCase(wrong, { qemu: qemu.v5, logDir });
    const text = formatVerdict(verdict).join('\n');
    expect(verdict.status).toBe('fail');
    expect(text).toContain('~ changed type   [0x0000000280000000-0x000000047fffffff]: expected reserved (type 2), got soft reserved (type 0xEFFFFFFF)');
    expect(text).toContain('serial log: ');
    expect(await readdir(logDir)).toContain('seed-spm-wrong@v5.q35.ovmf-sid.minimal-6.1.serial.log');
  });
});

describe('nothing is left behind', () => {
  it('no QEMU process of ours is still running', () => {
    expect(childProcesses().filter((c) => c.comm.startsWith('qemu'))).toEqual([]);
  });

  it('no run or QMP temp dir is left', async ({ privateTmp }) => {
    expect(await readdir(privateTmp)).toEqual([]);
  });
});
