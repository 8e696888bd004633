import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { loadCase } from '../case/load.ts';
import type { CaseSpec } from '../case/types.ts';
import type { Finding, Verdict } from '../core/vocabulary.ts';
import { outcomeOf, outcomeReason } from '../matrix/row.ts';
import { expectationsFor } from '../model/expectations.ts';
import { formatVerdict } from '../report/console.ts';
import { runCase, type QemuUnderTest } from '../run/run-case.ts';
import { testbedQemu } from './testbed.ts';
import { caseConfigurations, configurationLabel, type CaseConfiguration } from './configurations.ts';
import { locateExpectation } from './json-location.ts';
import { isHmatCheck } from '../check/hmat.ts';

/**
 * Declares a case file's tests (called while vitest collects the file): a
 * suite named after the case, one test per configuration, and in each one
 * assertion per check the expectation engine made. A failed check points at
 * the expectation's line in the case file, so reporters (github-actions,
 * junit, the terminal) name the JSON, not this module.
 */
export async function defineCaseTests(casePath: string): Promise<void> {
  const spec = await loadCase(casePath);
  const text = await readFile(casePath, 'utf8');
  const logs = { dir: '', keep: false };
  describe(spec.name, () => {
    afterAll(async () => {
      // A failed run's serial logs stay for the reader (their paths are in the failure messages).
      // A failure before any boot (a refusal, unsupported) leaves nothing to keep: no empty dir either.
      const nothingKept = logs.keep && (await readdir(logs.dir).catch(() => [])).length === 0;
      if (logs.dir !== '' && (!logs.keep || nothingKept)) await rm(logs.dir, { recursive: true, force: true });
    });
    for (const config of caseConfigurations(spec)) {
      it(configurationLabel(config), async (context) => {
        logs.dir ||= await mkdtemp(join(tmpdir(), 'memmap-harness-cases-'));
        context.onTestFailed(() => {
          logs.keep = true;
        });
        await runAndAssert(context, { spec, config, casePath, text, logDir: logs.dir });
      });
    }
  });
}

/** What one test of a case works with. */
interface CaseTest {
  spec: CaseSpec;
  config: CaseConfiguration;
  casePath: string;
  text: string;
  logDir: string;
}

declare module '@vitest/runner' {
  interface TaskMeta {
    /** How many checks the case's run made (the json reporter carries it). */
    checks?: number;
    /** The run's verdict status: pass, fail, error or unsupported. */
    verdict?: Verdict['status'];
    /** Why, when the verdict or the outcome against the expectation needs a reason. */
    reason?: string;
  }
}

/** Runs the case on its configuration and asserts what the expectation engine says it must show. */
async function runAndAssert(context: TestContext, test: CaseTest): Promise<void> {
  const { spec, config } = test;
  const expectation = expectationsFor(spec, { machine: spec.machine, firmware: config.firmware, kernel: spec.kernel, revision: config.revision });
  const verdict = await runCase(spec, { qemu: testbedQemu(config.revision), logDir: test.logDir, firmware: config.firmware, profile: config.revision });
  const outcome = outcomeOf(expectation, verdict, []);
  context.task.meta.checks = verdict.findings.length;
  context.task.meta.verdict = verdict.status;
  const reason = outcomeReason(expectation, verdict, []);
  if (reason !== undefined) context.task.meta.reason = reason;
  const report = formatVerdict(verdict).join('\n');
  if (expectation.kind === 'unsupported' || verdict.status === 'error' || verdict.status === 'unsupported') {
    // No checks ran (or none were due): the run's status against the engine's expectation is the assertion.
    assertAt(context, test, 'refusal', () => expect(outcome, `${reason ?? verdict.status}\n${report}`).toBe('pass'));
    return;
  }
  for (const finding of verdict.findings) {
    assertAt(context, test, finding.aspect, () => expect.soft(finding.ok, findingMessage(finding, verdict)).toBe(true), verdict.firmwareVariant ? config.firmware : undefined, isHmatCheck(finding.check) ? 'hmat' : undefined);
  }
}

function findingMessage(finding: Finding, verdict: Verdict): string {
  const lines = [`${finding.aspect}${finding.layer && finding.layer !== finding.aspect ? ` (${finding.layer})` : ''}: ${finding.check}`, ...finding.detail];
  if (verdict.divergence) lines.push(`layer: ${verdict.divergence.says}`);
  if (verdict.firmwareVariant) lines.push(`firmware expectation: ${verdict.firmwareVariant}`);
  if (verdict.serialLog) lines.push(`serial log: ${verdict.serialLog}`);
  return lines.join('\n');
}

/**
 * Runs one assertion; the errors it records (soft or thrown) get the case
 * file's line of that expectation as their only stack frame. Vitest's
 * reporters take an error's file and line from its stack, and this module's
 * own frames would name harness code instead of the case.
 */
function assertAt(context: TestContext, test: CaseTest, aspect: Finding['aspect'], assertion: () => void, firmware?: string, caseKey?: string): void {
  const errors = context.task.result?.errors;
  const before = errors?.length ?? 0;
  const frame = () => {
    const { line, column } = locateExpectation(test.text, aspect, firmware, caseKey);
    return `    at ${test.spec.name} (${test.casePath}:${line}:${column})`;
  };
  try {
    assertion();
  } catch (error) {
    if (error instanceof Error) error.stack = `${error.name}: ${error.message}\n${frame()}`;
    throw error;
  }
  for (const recorded of (context.task.result?.errors ?? []).slice(before)) {
    recorded.stack = `${recorded.name ?? 'AssertionError'}: ${recorded.message}\n${frame()}`;
    // The message holds the evidence (a row diff in human units); a true/false diff adds nothing.
    delete recorded.diff;
  }
}
