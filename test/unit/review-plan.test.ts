import { describe, expect, it } from 'vitest';
import { classifyInterfaces } from '../../harness/interface/classify.ts';
import { loadProfiles } from '../../harness/traits/profiles.ts';
import { REVIEW_FIRMWARE, REVIEW_LAYOUTS, reviewPlan } from '../../harness/review/plan.ts';
import { loadProbeRuns } from '../fixtures/probe/load.ts';

/* What a review runs, from the interface probe of real binaries (test/fixtures/probe/). */

function probed(name: string) {
  return classifyInterfaces(name, loadProbeRuns(name), loadProfiles());
}

const entriesOf = async (name: string) => {
  const report = probed(name);
  const plan = await reviewPlan(report, undefined, report.profile);
  return { report, plan, pairs: plan.entries.map((e) => `${e.spec.name}@${e.firmware}`) };
};

describe('reviewPlan', () => {
  it('a v6-like series: the seed on three firmware, layouts and its own negatives on qboot', async () => {
    const { report, pairs, plan } = await entriesOf('v6-10.2.2');
    expect(report.profile).toBe('v6');
    for (const name of ['seed-spm', 'seed-reserved', 'seed-normal']) {
      for (const firmware of Object.values(REVIEW_FIRMWARE)) expect(pairs).toContain(`${name}@${firmware}`);
    }
    for (const layout of REVIEW_LAYOUTS) expect(pairs).toContain(`${layout}@qboot`);
    expect(pairs).toContain('negative-memmap-type-without-memdev@qboot');
    // About the baseline and 11.1 only: not a case of this series.
    expect(pairs.some((p) => p.startsWith('negative-baseline-memmap-type@'))).toBe(false);
    expect(pairs.some((p) => p.startsWith('sp-mem'))).toBe(false);
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(plan.why.join('\n')).toMatch(/negative set/);
  });

  it('a v5-like series leaves out v6-only refusals', async () => {
    const { report, pairs } = await entriesOf('v5-10.2.2');
    expect(report.profile).toBe('v5');
    expect(pairs).toContain('negative-memmap-type-bogus@qboot');
    expect(pairs.some((p) => p.startsWith('negative-memmap-type-without-memdev@'))).toBe(false);
  });

  it('a QEMU with -device sp-mem and no memmap-type: the sp-mem set, sp-mem-seed on three firmware', async () => {
    const { pairs } = await entriesOf('debian-bin-sid-11.1.3');
    for (const firmware of Object.values(REVIEW_FIRMWARE)) expect(pairs).toContain(`sp-mem-seed@${firmware}`);
    expect(pairs).toContain('sp-mem-two-nodes@qboot');
    expect(pairs).toContain('negative-sp-mem-no-maxmem@qboot');
    expect(pairs.some((p) => p.startsWith('seed-') || p.startsWith('layout-'))).toBe(false);
  });

  it('a QEMU with neither interface: the seed cases (they will say unsupported, without booting)', async () => {
    const { pairs } = await entriesOf('baseline-10.2.2');
    expect(pairs.sort()).toEqual(['seed-normal', 'seed-reserved', 'seed-spm'].flatMap((n) => Object.values(REVIEW_FIRMWARE).map((f) => `${n}@${f}`)).sort());
  });
});
