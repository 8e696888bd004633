import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase, loadCases } from '../../harness/case/load.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { HarnessError } from '../../harness/util/errors.ts';
import { caseConfigurations, configurationLabel } from '../../harness/vitest/configurations.ts';
import { locateExpectation } from '../../harness/vitest/json-location.ts';

const casePath = (name: string) => join(REPO_ROOT, 'cases', `${name}.json`);
const labels = async (name: string) => caseConfigurations(await loadCase(casePath(name))).map(configurationLabel);

describe('which configurations a case file is a test on', () => {
  it('a stated-row case: its own revision on its firmware and each onFirmware variant, and the baseline', async () => {
    expect(await labels('seed-spm')).toEqual(['v5 · ovmf-sid', 'v5 · seabios-bookworm', 'baseline · ovmf-sid', 'baseline · seabios-bookworm']);
    expect(await labels('seed-normal')).toEqual(['v5 · ovmf-sid', 'baseline · ovmf-sid']);
  });

  it('a layout-model case: both patched series', async () => {
    expect(await labels('layout-reserved-pc')).toEqual(['v5 · seabios-bookworm', 'v6 · seabios-bookworm']);
  });

  it('a case that names its revisions: exactly those', async () => {
    expect(await labels('negative-memmap-type-without-memdev')).toEqual(['v6 · seabios-bookworm']);
    expect(await labels('negative-baseline-memmap-type')).toEqual(['baseline · seabios-bookworm', 'upstream-11.1 · seabios-bookworm']);
  });

  it('an sp-mem case (stated rows, layout model or refusal): upstream-11.1, where it was measured, and the baseline, which must say unsupported', async () => {
    expect(await labels('sp-mem-seed')).toEqual(['upstream-11.1 · ovmf-sid', 'upstream-11.1 · seabios-sid', 'baseline · ovmf-sid', 'baseline · seabios-sid']);
    expect(await labels('sp-mem-two-nodes')).toEqual(['upstream-11.1 · ovmf-sid', 'baseline · ovmf-sid']);
    expect(await labels('negative-sp-mem-no-maxmem')).toEqual(['upstream-11.1 · seabios-sid', 'baseline · seabios-sid']);
  });

  it('every case in cases/ has at least one configuration the test bed can run', async () => {
    for (const spec of await loadCases(join(REPO_ROOT, 'cases'))) expect(caseConfigurations(spec).length, spec.name).toBeGreaterThan(0);
  });

  it('a revision the test bed has no QEMU for is one clear error naming the case', async () => {
    const spec = { ...(await loadCase(casePath('seed-normal'))), profiles: ['v7'] };
    expect(() => caseConfigurations(spec)).toThrow(HarnessError);
    expect(() => caseConfigurations(spec)).toThrow("seed-normal: no QEMU of revision 'v7' in the test bed");
  });
});

describe('where a failed check points in the case file', () => {
  const lineOf = (text: string, needle: string, from = 0) => {
    const lines = text.split('\n');
    const index = lines.findIndex((l, i) => i >= from && l.includes(needle));
    return { line: index + 1, column: (lines[index] ?? '').indexOf(needle) + 1 };
  };

  it('the aspect under expect', async () => {
    const text = await readFile(casePath('seed-spm'), 'utf8');
    expect(locateExpectation(text, 'srat')).toEqual(lineOf(text, '"srat"'));
    expect(locateExpectation(text, 'e820')).toEqual(lineOf(text, '"e820"'));
  });

  it("the firmware variant's own expectation when the run used it, else the case's", async () => {
    const text = await readFile(casePath('seed-spm'), 'utf8');
    const variant = lineOf(text, '"seabios-bookworm"').line;
    expect(locateExpectation(text, 'e820', 'seabios-bookworm')).toEqual(lineOf(text, '"e820"', variant));
    // The variant states no SRAT rows: the case's own apply.
    expect(locateExpectation(text, 'srat', 'seabios-bookworm')).toEqual(lineOf(text, '"srat"'));
  });

  it('rows the layout model derived point at expect.model; a missing aspect at expect', async () => {
    const model = await readFile(casePath('layout-reserved-pc'), 'utf8');
    expect(locateExpectation(model, 'e820')).toEqual(lineOf(model, '"model"'));
    const seed = await readFile(casePath('seed-normal'), 'utf8');
    expect(locateExpectation(seed, 'refusal')).toEqual(lineOf(seed, '"expect"'));
  });
});
