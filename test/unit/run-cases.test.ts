import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withDir } from 'tmp-promise';
import { describe, expect, it } from 'vitest';
import { loadCaseSetSpec } from '../../harness/case/sets.ts';
import { orderedPrinter } from '../../harness/run/run-cases.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';

describe('verdicts of parallel cases come out in case order', () => {
  it('holds a later block until every earlier one is in', () => {
    const out: string[] = [];
    const printer = orderedPrinter(3, (line) => out.push(line));
    printer.ready(2, ['c']);
    printer.ready(1, ['b1', 'b2']);
    expect(out).toEqual([]);
    printer.ready(0, ['a']);
    expect(out).toEqual(['a', 'b1', 'b2', 'c']);
  });
});

describe('a case set may name the firmware its cases run on', () => {
  it('the default set runs on qboot', async () => {
    const set = await loadCaseSetSpec(join(REPO_ROOT, 'cases'), 'default');
    expect(set).toEqual({ cases: ['seed-spm', 'seed-reserved', 'seed-normal'], firmware: 'qboot' });
  });

  it('an unknown firmware is one clear error naming the file', async () => {
    await withDir(async ({ path }) => {
      await mkdir(join(path, 'sets'));
      await writeFile(join(path, 'sets', 'x.json'), JSON.stringify({ cases: ['a'], firmware: 'coreboot' }));
      await expect(loadCaseSetSpec(path, 'x')).rejects.toThrow(/x\.json: firmware must be a firmware id, not "coreboot"/);
    }, { unsafeCleanup: true });
  });
});
