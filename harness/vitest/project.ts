import { join } from 'node:path';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { REPO_ROOT } from '../util/paths.ts';
import { suiteTimeoutFactor, TIMEOUT_FACTOR_VARIABLE } from '../util/timeouts.ts';

/** Settings of a vitest project whose test files are case files. */
export interface CasesProjectOptions {
  /** Globs of case files, relative to the project root (default `cases/*.json`). */
  include?: string[];
  /** The project's root (default vitest's: the config's directory). */
  root?: string;
}

/**
 * A vitest project that runs case files as tests through the case runner,
 * one file at a time (each test boots a guest under TCG), after the cached
 * QEMU builds, kernels and firmware are in place (the integration global setup).
 */
export function casesProject(options: CasesProjectOptions = {}): TestProjectInlineConfiguration {
  const factor = suiteTimeoutFactor();
  return {
    test: {
      name: 'cases',
      ...(options.root === undefined ? {} : { root: options.root }),
      include: options.include ?? ['cases/*.json'],
      runner: join(REPO_ROOT, 'harness', 'vitest', 'case-runner.ts'),
      globalSetup: [join(REPO_ROOT, 'test', 'integration', 'global-setup.ts')],
      fileParallelism: false,
      // Every wait of the harness scales with the factor; vitest's own bounds scale with it too.
      env: { [TIMEOUT_FACTOR_VARIABLE]: String(factor) },
      testTimeout: 240_000 * factor,
      hookTimeout: 3_600_000 * factor,
      // After the integration files: both boot guests, and the two cores are shared.
      sequence: { groupOrder: 2 },
    },
  };
}
