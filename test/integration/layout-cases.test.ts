import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCases } from '../../harness/case/load.ts';
import { loadCaseSet } from '../../harness/case/sets.ts';
import { caseAppliesTo } from '../../harness/model/from-case.ts';
import { formatVerdict } from '../../harness/report/console.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import { testbed } from './testbed.ts';

// Every layout-model case (cases/sets/layout.json) on the v5 and v6 builds:
// rows predicted for the case's machine, firmware and revision, checked on a
// real boot with an early verdict (the firmware tables are all they check).
const CASES_DIR = join(REPO_ROOT, 'cases');
const specs = await loadCases(CASES_DIR, await loadCaseSet(CASES_DIR, 'layout'));
let logDir: string;
beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'memmap-harness-layout-'));
});
afterAll(() => rm(logDir, { recursive: true, force: true }));

for (const revision of ['v5', 'v6'] as const) {
  describe(`layout cases on ${revision}`, () => {
    const qemu = (): QemuUnderTest => {
      const bed = testbed();
      return { binary: revision === 'v5' ? bed.qemuV5 : bed.qemuV6, label: revision, firmwareDirs: bed.firmwareDirs };
    };
    for (const spec of specs.filter((s) => caseAppliesTo(s, revision))) {
      it(spec.name, async () => {
        const verdict = await runCase(spec, { qemu: qemu(), logDir });
        expect(verdict.status, formatVerdict(verdict).join('\n')).toBe('pass');
        expect(verdict.findings.length).toBeGreaterThan(0);
      });
    }
  });
}
