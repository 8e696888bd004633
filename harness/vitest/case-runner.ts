import type { VitestRunnerImportSource } from '@vitest/runner';
import { TestRunner } from 'vitest';
import { defineCaseTests } from './case-tests.ts';

/**
 * Vitest's test runner, taught that a case file (`cases/*.json`) is a test
 * file: collecting it declares the case's tests (harness/vitest/case-tests.ts).
 * Everything else (TypeScript tests, setup files) is imported as usual.
 */
export default class CaseRunner extends TestRunner {
  override async importFile(filepath: string, source: VitestRunnerImportSource): Promise<unknown> {
    if (source !== 'collect' || !filepath.endsWith('.json')) return super.importFile(filepath, source);
    // Loaded through vite as well, so the case file is in the module graph: reporters
    // only place an error at a stack frame whose file vite has transformed.
    await super.importFile(filepath, source);
    await defineCaseTests(filepath);
    return undefined;
  }
}
