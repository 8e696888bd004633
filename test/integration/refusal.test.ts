import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCase } from '../../harness/case/load.ts';
import type { CaseSpec } from '../../harness/case/types.ts';
import { resolveQemu } from '../../harness/run/resolve-qemu.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import type { Verdict } from '../../harness/core/vocabulary.ts';

// Refusals judged by behaviour, on real builds: this project's v5 series; the
// same series with the straddle refusal worded differently (another
// implementation's words, test/fixtures/series/reworded-straddle); a refusal
// for an unrelated reason; and a QEMU that starts where a refusal is expected.
const V5 = join(REPO_ROOT, 'patches', 'memmap-type', 'v5');
const REWORDED = join(REPO_ROOT, 'test', 'fixtures', 'series', 'reworded-straddle');
const negative = (name: string) => loadCase(join(REPO_ROOT, 'cases', `${name}.json`));
const failedChecks = (v: Verdict) => v.findings.filter((f) => !f.ok).map((f) => f.check);

let work: string;
let ours: QemuUnderTest;
let reworded: QemuUnderTest;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-refusal-'));
  ours = await resolveQemu({ patches: V5 });
  // v5 plus one patch that rewords the straddle error: built once, then a cache hit.
  const series = join(work, 'v5-reworded');
  await mkdir(series);
  for (const dir of [V5, REWORDED]) for (const name of await readdir(dir)) await cp(join(dir, name), join(series, name));
  reworded = await resolveQemu({ patches: series });
});

afterAll(() => rm(work, { recursive: true, force: true }));

describe('straddling the 4 GiB boundary: the refusal is judged by behaviour', () => {
  for (const name of ['negative-straddle-4g-pc', 'negative-straddle-4g-q35']) {
    it(`${name}: our v5 passes, its exact words checked too`, async () => {
      expect(ours.ownSeries).toBe('v5');
      const verdict = await runCase(await negative(name), { qemu: ours, logDir: work });
      expect(failedChecks(verdict)).toEqual([]);
      expect(verdict.findings.map((f) => f.check)).toContain(`this project's v5 series words it "${(await negative(name)).expect.refusal?.wording?.v5}"`);
      expect(verdict.status).toBe('pass');
    });

    it(`${name}: an implementation with other words passes, and its words are not held against it`, async () => {
      expect(reworded.ownSeries).toBeUndefined();
      const verdict = await runCase(await negative(name), { qemu: reworded, logDir: work });
      expect(failedChecks(verdict)).toEqual([]);
      expect(verdict.findings).toHaveLength(2);
      expect(verdict.status).toBe('pass');
    });
  }

  it('the reworded build really says something else', async () => {
    const spec = await negative('negative-straddle-4g-q35');
    const strict = await runCase(spec, { qemu: { ...reworded, ownSeries: 'v5' }, logDir: work });
    expect(failedChecks(strict)).toEqual([`this project's v5 series words it "${spec.expect.refusal?.wording?.v5}"`]);
    expect(strict.findings.flatMap((f) => f.detail).join('\n')).toMatch(/QEMU said: .*node-id 1 \(spm\) would sit on both sides of the PCI hole/);
  });

  it('a refusal for an unrelated reason (an unknown machine type) is not the expected refusal', async () => {
    const spec: CaseSpec = { ...(await negative('negative-straddle-4g-q35')), machine: 'pc-q35-99.0' as CaseSpec['machine'] };
    const verdict = await runCase(spec, { qemu: ours, logDir: work });
    expect(verdict.status).toBe('fail');
    expect(failedChecks(verdict)).toEqual([expect.stringMatching(/^the refusal concerns the rule/), `this project's v5 series words it "${spec.expect.refusal?.wording?.v5}"`]);
    expect(verdict.findings.flatMap((f) => f.detail).join('\n')).toMatch(/refused for another reason[\s\S]*unsupported machine type/);
  });

  it('a QEMU that starts where a refusal is expected fails', async () => {
    // Node 1 moved to start exactly at q35's 2 GiB split: nothing straddles, QEMU starts.
    const straddle = await negative('negative-straddle-4g-q35');
    const spec: CaseSpec = { ...straddle, nodes: [{ ...straddle.nodes[0]!, size: '2G' }, { ...straddle.nodes[1]!, size: '2G' }] };
    const verdict = await runCase(spec, { qemu: reworded, logDir: work });
    expect(verdict.status).toBe('fail');
    expect(verdict.findings.flatMap((f) => f.detail)).toEqual(['  QEMU started (the configuration was accepted)']);
  });
});
