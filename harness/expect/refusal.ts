/**
 * Negative cases: QEMU must refuse the configuration at startup, and say so
 * with a message matching the case's `expect.refusal`. The check launches
 * QEMU itself so a QEMU that wrongly starts is stopped again at once.
 */
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

/**
 * Runs `launch`, stops whatever started, and checks the outcome against
 * `pattern`. Errors other than a refusal to start propagate.
 */
export async function checkRefusal(pattern: string, launch: () => Promise<Stoppable>): Promise<RefusalFinding> {
  return refusalFinding(pattern, await launchOutcome(launch));
}

/** The launch outcome: a VmStartError is a refusal; anything that started is shut down. */
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

/** Pass when QEMU refused with a message (its error line, or else anything on stderr) matching `pattern`. */
export function refusalFinding(pattern: string, outcome: LaunchOutcome): RefusalFinding {
  const check = `QEMU refuses to start with /${pattern}/`;
  if (!outcome.refused) return { aspect: 'refusal', check, ok: false, detail: ['  QEMU started (the configuration was accepted)'] };
  const re = new RegExp(pattern);
  if (re.test(outcome.qemuMessage) || re.test(outcome.stderr)) return { aspect: 'refusal', check, ok: true, detail: [] };
  const said = (outcome.qemuMessage || outcome.stderr.trim() || '(nothing on stderr)').split('\n').map((l) => `  QEMU said: ${l}`);
  return { aspect: 'refusal', check, ok: false, detail: ['  QEMU refused, but with another message', ...said] };
}
