import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCase } from '../../harness/case/load.ts';
import type { Verdict } from '../../harness/core/vocabulary.ts';
import { resolveQemu } from '../../harness/run/resolve-qemu.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Issue 27 on real builds: the seed spm case's use checks (aspect `use`) pass
// on this project's v5 series, and fail, each with a line that says why, on
// the same series with one planted bug: spm nodes typed reserved (E820 type 2)
// instead of soft reserved (test/fixtures/series/planted-spm-as-reserved, built
// from v5 + that patch like any user's series). The case file is the seed's
// own, unchanged: what a user would run against a broken respin.
const V5 = join(REPO_ROOT, 'patches', 'memmap-type', 'v5');
const PLANTED = join(REPO_ROOT, 'test', 'fixtures', 'series', 'planted-spm-as-reserved');
const seedSpm = () => loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json'));
const useFindings = (v: Verdict) => v.findings.filter((f) => f.aspect === 'use');

let work: string;
let ours: QemuUnderTest;
let planted: QemuUnderTest;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-use-'));
  ours = await resolveQemu({ patches: V5 });
  const series = join(work, 'v5-planted');
  await mkdir(series);
  for (const dir of [V5, PLANTED]) for (const name of await readdir(dir)) await cp(join(dir, name), join(series, name));
  planted = await resolveQemu({ patches: series });
}, scaledMs(3_600_000));

afterAll(() => rm(work, { recursive: true, force: true }));

describe('does the spm memory work? (aspect use)', () => {
  it('v5, seed-spm on OVMF sid: dax0.0 on node 1 maps and holds a pattern, and kmem onlines it as node 1 RAM', async () => {
    const verdict = await runCase(await seedSpm(), { qemu: ours, logDir: work });
    const use = useFindings(verdict);
    expect(use.map((f) => [f.ok, f.detail])).toEqual([[true, []], [true, []]]);
    expect(use[0]?.check).toMatch(/^node 1: \/dev\/dax\d+\.\d+ \d+ bytes \(size 8 GiB, align 2 MiB\) written through one MAP_SHARED mapping and read back through another$/);
    expect(use[1]?.check).toMatch(/^node 1: dax\d+\.\d+ onlined as System RAM \(kmem\): MemTotal 0 B -> 8 GiB, \d+ blocks of \d+ MiB$/);
    expect(verdict.status).toBe('pass');
  }, scaledMs(600_000));

  it('v5 + a planted bug (spm typed reserved): the use checks fail, each saying there is no dax device on node 1', async () => {
    expect(planted.ownSeries).toBeUndefined();
    const verdict = await runCase(await seedSpm(), { qemu: planted, logDir: work });
    expect(verdict.status).toBe('fail');
    const use = useFindings(verdict);
    expect(use.map((f) => f.ok)).toEqual([false, false]);
    expect(use[0]?.detail[0]).toBe('  no dax device on node 1 to map (dax devices: none)');
    expect(use[1]?.detail).toEqual(['  no dax device on node 1 to reconfigure (dax devices: none)']);
    // The map shows the cause: node 1's range is reserved (type 2), not soft reserved.
    expect(verdict.findings.find((f) => f.aspect === 'e820')?.detail.join('\n')).toMatch(/0x0000000280000000-0x000000047fffffff/);
  }, scaledMs(600_000));
});
