import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { validateCase } from '../../harness/case/load.ts';
import type { CaseSpec, MachineType } from '../../harness/case/types.ts';
import { refusalFindings } from '../../harness/check/refusal.ts';
import { getProfile } from '../../harness/traits/profiles.ts';
import { predictCase } from '../../harness/model/from-case.ts';
import type { Prediction } from '../../harness/model/types.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { rowsInScope } from '../../harness/core/e820-scope.ts';
import { nonEmpty } from './non-empty.ts';

// The layout model against real boots (test/fixtures/serial/model/README.md):
// every fixture's BIOS-e820 and SRAT rows, to the address, and QEMU's own
// refusal messages.
const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'serial', 'model');

interface Fixture {
  file: string;
  case: string;
  profile: string;
  firmware: string;
  machine?: MachineType;
  spec?: unknown;
}

const fixtures = JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as Fixture[];

function specOf(f: Fixture): CaseSpec {
  const where = f.spec ? `index.json ${f.file}` : `cases/${f.case}.json`;
  const spec = validateCase(f.spec ?? JSON.parse(readFileSync(join(REPO_ROOT, 'cases', `${f.case}.json`), 'utf8')), where);
  return f.machine ? { ...spec, machine: f.machine } : spec;
}

function predict(f: Fixture): Prediction {
  return predictCase(specOf(f), f.firmware, getProfile(f.profile));
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

describe('the model reproduces every captured boot', () => {
  for (const f of nonEmpty(fixtures.filter((x) => x.file.endsWith('.log')), 'captured boots (*.log) in the model fixtures')) {
    it(f.file, () => {
      const prediction = predict(f);
      if (prediction.kind !== 'layout') throw new Error(`model predicted ${prediction.kind} for a configuration that booted`);
      const log = parseSerialLog(readFileSync(join(FIXTURES, f.file), 'latin1'));
      expect(log.warnings).toEqual([]);
      const seenE820 = rowsInScope(log.e820, prediction.e820.scope).map((e) => `${hex(e.start)}-${hex(e.end)} type ${e.type}`);
      expect(seenE820).toEqual(prediction.e820.rows.map((r) => `${hex(r.start)}-${hex(r.end)} type ${r.type}`));
      const seenSrat = log.srat.map((s) => `node ${s.node} pxm ${s.pxm} ${hex(s.start)}-${hex(s.end)}`);
      expect(seenSrat).toEqual(prediction.srat.map((s) => `node ${s.node} pxm ${s.pxm} ${hex(s.start)}-${hex(s.end)}`));
      expect(prediction.printsSrat).toBe(log.srat.length > 0);
    });
  }
});

describe('the model predicts QEMU\'s refusals: the rule, and our series\' own words', () => {
  for (const f of nonEmpty(fixtures.filter((x) => x.file.endsWith('.stderr.txt')), 'captured refusals (*.stderr.txt) in the model fixtures')) {
    it(f.file, () => {
      const stderr = readFileSync(join(FIXTURES, f.file), 'utf8');
      const prediction = predict(f);
      if (prediction.kind !== 'refusal') throw new Error(`model predicted ${prediction.kind}, QEMU said: ${stderr}`);
      // These fixtures come from builds of this project's own series, so the wording is checked too.
      const outcome = { refused: true as const, qemuMessage: stderr.trim().split('\n')[0] ?? '', stderr };
      const findings = refusalFindings(prediction.expectation, outcome, { ownSeries: f.profile });
      expect(findings.map((x) => x.check)).toContain(`this project's ${f.profile} series words it "${prediction.expectation.wording?.[f.profile]}"`);
      expect(findings.filter((x) => !x.ok)).toEqual([]);
      const stated = specOf(f).expect.refusal;
      if (stated !== undefined) expect(refusalFindings(stated, outcome, { ownSeries: f.profile }).filter((x) => !x.ok)).toEqual([]);
    });
  }
});

describe('the fixtures cover what the issue asks for', () => {
  const logs = fixtures.filter((x) => x.file.endsWith('.log'));
  it('the seed\'s three cases, on both machines', () => {
    for (const name of ['seed-spm', 'seed-reserved', 'seed-normal']) {
      expect(logs.some((f) => f.case === name && !f.machine)).toBe(true);
      expect(logs.some((f) => f.case === name && f.machine === 'pc')).toBe(true);
    }
  });

  it('at least six layout cases booted, on both machines, both revisions, every firmware kind', () => {
    const layouts = new Set(logs.filter((f) => f.case.startsWith('layout-')).map((f) => f.case));
    expect(layouts.size).toBeGreaterThanOrEqual(6);
    const machines = new Set(logs.filter((f) => f.case.startsWith('layout-')).map((f) => specOf(f).machine));
    expect([...machines].sort()).toEqual(['pc', 'q35']);
    expect(new Set(logs.map((f) => f.profile))).toEqual(new Set(['baseline', 'v5', 'v6']));
    expect(new Set(logs.map((f) => f.firmware.split('-')[0]))).toEqual(new Set(['seabios', 'ovmf', 'qboot']));
  });
});

describe('the seed cases\' hand-written rows (the v5 cover letter) are what the model says', () => {
  for (const name of ['seed-spm', 'seed-reserved', 'seed-normal']) {
    it(name, () => {
      const spec = specOf({ file: '', case: name, profile: 'v5', firmware: 'ovmf-sid' });
      const prediction = predictCase(spec, 'ovmf-sid', getProfile('v5'));
      if (prediction.kind !== 'layout') throw new Error(prediction.kind);
      expect(prediction.e820.rows).toEqual(spec.expect.e820?.rows);
      expect(prediction.srat).toEqual(spec.expect.srat);
    });
  }
});
