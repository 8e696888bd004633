import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { casesProject } from './harness/vitest/project.ts';
import { suiteTimeoutFactor, TIMEOUT_FACTOR_VARIABLE } from './harness/util/timeouts.ts';

// Boot-heavy tests wait on a shared two-core machine: every wait scales with this (harness/util/timeouts.ts).
const factor = suiteTimeoutFactor();

// Unit tests are fast and pure; integration tests boot real QEMU under TCG on a
// shared 2-core machine, so they run one file at a time with generous timeouts.
// The case files are tests too: the `cases` project collects cases/*.json through
// a custom runner (harness/vitest/case-runner.ts), after the integration files.
export default defineConfig({
  test: {
    // Watch mode: a case file re-runs itself (it is the test file); a change to a
    // series (the global setup rebuilds that QEMU) or to the model's traits re-runs every case.
    watchTriggerPatterns: [{ pattern: /\/(patches\/memmap-type\/.+|harness\/model\/traits\.json)$/, testsToRun: everyCaseFile }],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Pure, but some start a Node or a linter: vitest's 5 s default is too tight on two busy cores.
          env: { [TIMEOUT_FACTOR_VARIABLE]: String(factor) },
          testTimeout: 20_000 * factor,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          fileParallelism: false,
          env: { [TIMEOUT_FACTOR_VARIABLE]: String(factor) },
          testTimeout: 240_000 * factor,
          hookTimeout: 3_600_000 * factor,
          sequence: { groupOrder: 1 },
        },
      },
      casesProject(),
    ],
  },
});

/** Every case file, as test files to re-run. */
function everyCaseFile(): string[] {
  const dir = fileURLToPath(new URL('./cases', import.meta.url));
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => join(dir, f));
}
