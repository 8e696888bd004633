import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';

// A real capture (seed-spm, v5, qboot, minimal 6.1) cut the way the harness's stop at "tables done"
// cut a review run's log: inside /proc/iomem, half-way through a line (that run's log ended "  800").
const REAL = readFileSync(join(REPO_ROOT, 'test/fixtures/acpi/seed-spm--v5--qboot--minimal-6.1.serial.log'), 'latin1');
const lines = REAL.split('\n');
const begin = lines.findIndex((l) => l.includes('==== memmap-harness: begin iomem ===='));
const whole = lines.slice(0, begin + 3); // the marker and two whole lines of /proc/iomem
const half = (lines[begin + 3] ?? '').slice(0, 5);
const strayOf = (text: string) => parseSerialLog(text).guest.stray;

describe('a probe section cut by the harness stopping the guest', () => {
  it('the fixture is what the test needs: iomem begins, and the cut line is really cut', () => {
    expect(begin).toBeGreaterThan(0);
    expect(half.length).toBe(5);
    expect(lines[begin + 3]?.length).toBeGreaterThan(5);
  });

  it('an unclosed section: its half last line is not a stray line', () => {
    expect(strayOf([...whole, half].join('\n'))).toEqual([]);
  });

  it('a closed section: the same half line is stray (something cut a line inside the section)', () => {
    expect(strayOf([...whole, half, '==== memmap-harness: end iomem ===='].join('\n'))).toEqual([{ section: 'iomem', text: half }]);
  });

  it('an unclosed section: a half line before its last line is still stray', () => {
    expect(strayOf([...whole.slice(0, -1), half, ...whole.slice(-1)].join('\n'))).toEqual([{ section: 'iomem', text: half }]);
  });
});
