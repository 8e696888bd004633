/**
 * Negative cases: QEMU must refuse the configuration, judged by behaviour.
 * QEMU exits during startup (before the guest runs: it is started paused and
 * never comes up), and its error concerns the rule the case is about: it
 * matches one of the case's `mentions`. A QEMU that starts fails; a QEMU that
 * refuses for an unrelated reason (a bad firmware path, an unknown machine)
 * fails too, since the rule was never exercised. Exact wording is checked only
 * on a QEMU built from this project's own series of the revision that states
 * it, so another implementation's words never fail a case.
 */
import type { RefusalExpectation } from '../case/types.ts';
import type { Finding } from './check.ts';
import { VmStartError } from '../vm/errors.ts';

/** A finding about QEMU's startup verdict (an aspect beside e820/srat/qmp/guest). */
export type RefusalFinding = Omit<Finding, 'aspect'> & { aspect: 'refusal' };

/** What starting QEMU came to: it refused (VmStartError's message and stderr), or it came up. */
export type LaunchOutcome = { refused: true; qemuMessage: string; stderr: string } | { refused: false };

/** Something that started: only stopping it matters here. */
export interface Stoppable {
  shutdown(options?: { graceMs?: number }): Promise<unknown>;
}

/** What the run knows about the QEMU beyond its behaviour. */
export interface RefusalContext {
  /** The revision id of this project's own series the QEMU was built from; undefined for any other QEMU. */
  ownSeries?: string;
}

/** Runs `launch`, stops whatever started, and judges the outcome against `expectation`. */
export async function checkRefusal(expectation: RefusalExpectation, launch: () => Promise<Stoppable>, context: RefusalContext = {}): Promise<RefusalFinding[]> {
  return refusalFindings(expectation, await launchOutcome(launch), context);
}

/** The launch outcome: a VmStartError is a refusal; anything that started is shut down. Other errors propagate. */
export async function launchOutcome(launch: () => Promise<Stoppable>): Promise<LaunchOutcome> {
  let started: Stoppable;
  try {
    started = await launch();
  } catch (error) {
    if (error instanceof VmStartError) return { refused: true, qemuMessage: error.qemuMessage, stderr: error.stderr };
    throw error;
  }
  await started.shutdown({ graceMs: 2_000 });
  return { refused: false };
}

/** The findings: QEMU refused; the refusal concerns the rule; and, on our own series, its exact words. */
export function refusalFindings(expectation: RefusalExpectation, outcome: LaunchOutcome, context: RefusalContext = {}): RefusalFinding[] {
  const refused: RefusalFinding = { aspect: 'refusal', check: `QEMU refuses to start: ${expectation.rule}`, ok: outcome.refused, detail: [] };
  if (!outcome.refused) return [{ ...refused, detail: ['  QEMU started (the configuration was accepted)'] }];
  const said = outcome.qemuMessage || outcome.stderr.trim();
  const findings = [refused, aboutTheRule(expectation, outcome, said)];
  const wording = context.ownSeries === undefined ? undefined : expectation.wording?.[context.ownSeries];
  if (wording !== undefined) findings.push(exactWording(wording, context.ownSeries ?? '', outcome, said));
  return findings;
}

function aboutTheRule(expectation: RefusalExpectation, outcome: { qemuMessage: string; stderr: string }, said: string): RefusalFinding {
  const check = `the refusal concerns the rule (QEMU's error mentions ${expectation.mentions.map((m) => `/${m}/i`).join(' or ')})`;
  const matches = expectation.mentions.some((m) => new RegExp(m, 'i').test(outcome.qemuMessage) || new RegExp(m, 'i').test(outcome.stderr));
  if (matches) return { aspect: 'refusal', check, ok: true, detail: [] };
  return { aspect: 'refusal', check, ok: false, detail: ['  QEMU refused for another reason', ...quote(said)] };
}

function exactWording(wording: string, revision: string, outcome: { qemuMessage: string; stderr: string }, said: string): RefusalFinding {
  const check = `this project's ${revision} series words it "${wording}"`;
  const ok = outcome.qemuMessage.includes(wording) || outcome.stderr.includes(wording);
  return { aspect: 'refusal', check, ok, detail: ok ? [] : quote(said) };
}

function quote(said: string): string[] {
  return (said || '(nothing on stderr)').split('\n').map((line) => `  QEMU said: ${line}`);
}
