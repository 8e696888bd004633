import type { Verdict } from '../core/vocabulary.ts';
import type { CaseExpectation } from '../model/case-expectation.ts';
import type { Cell } from './types.ts';

/**
 * A row's result against the cell's expectation:
 * - pass: what the cell expects (including "unsupported" on the baseline);
 * - fail / error: as the verdict says, or unsupported where the patch should be;
 * - changed: a firmware or kernel fact stated in the matrix file no longer holds.
 */
export type Outcome = 'pass' | 'fail' | 'error' | 'changed';

/** A verdict that knows its matrix cell (report writers may use `cell` for grouping). */
export type MatrixVerdict = Verdict & { cell: string };

/** One cell × case. */
export interface MatrixRow {
  cell: string;
  axes: Cell;
  case: string;
  outcome: Outcome;
  /** What the cell expected, briefly (tags: a few words each), and the reasons from the matrix file. */
  expected: { summary: string[]; tags: string[]; reasons: string[] };
  /** BEHAVIOUR CHANGED messages. */
  changes: string[];
  verdict: MatrixVerdict;
}

/** The outcome of a finished run, given what the cell expected. */
export function outcomeOf(expectation: Pick<CaseExpectation, 'kind'>, verdict: Pick<Verdict, 'status'>, changes: readonly string[]): Outcome {
  if (changes.length > 0) return 'changed';
  if (expectation.kind === 'underivable') return 'error';
  if (expectation.kind === 'unsupported') return verdict.status === 'unsupported' ? 'pass' : verdict.status === 'error' ? 'error' : 'fail';
  if (verdict.status === 'unsupported') return 'fail';
  return verdict.status;
}

/** The reason a report shows for a row whose outcome differs from what its verdict alone says. */
export function outcomeReason(expectation: Pick<CaseExpectation, 'kind' | 'problem'>, verdict: Pick<Verdict, 'status' | 'reason'>, changes: readonly string[]): string | undefined {
  if (changes.length > 0) return [...changes, ...(verdict.reason ? [verdict.reason] : [])].join(' | ');
  if (expectation.kind === 'underivable') return expectation.problem;
  if (expectation.kind === 'unsupported' && verdict.status === 'unsupported') return `unsupported, as expected: ${verdict.reason ?? 'QEMU lacks memmap-type'}`;
  if (expectation.kind === 'unsupported' && verdict.status !== 'error') return 'expected unsupported (this QEMU should lack the interface the case uses), but it accepted it';
  if (expectation.kind === 'run' && verdict.status === 'unsupported') return `this QEMU lacks the interface the case uses: ${verdict.reason ?? ''}`.trim();
  return verdict.reason;
}
