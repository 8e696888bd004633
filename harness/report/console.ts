import type { Verdict } from '../core/vocabulary.ts';

const MARK: Record<Verdict['status'], string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', unsupported: 'UNSUPPORTED' };

/** The lines a person reads in the terminal for one verdict: one headline, and the evidence on anything but a pass. */
export function formatVerdict(v: Verdict): string[] {
  const seconds = (v.durationMs / 1000).toFixed(1);
  const lines = [`${MARK[v.status].padEnd(11)} ${v.name}  [${v.machine}, ${v.firmware}, ${v.kernel}]  ${seconds}s`];
  if (v.reason) lines.push(`    ${v.reason}`);
  if (v.divergence) lines.push(`    layer: ${v.divergence.says}`);
  // What the firmware changed and which layers this kernel cannot show: said on every verdict, never counted.
  for (const note of [...(v.layerPassage ?? []), ...(v.layerNotes ?? [])]) lines.push(`    note: ${note}`);
  if (v.firmwareVariant && v.status !== 'pass') lines.push(`    firmware expectation: ${v.firmwareVariant}`);
  for (const finding of v.findings.filter((f) => !f.ok)) {
    lines.push(`    ${finding.aspect}${finding.layer && finding.layer !== finding.aspect ? ` (${finding.layer})` : ''}: ${finding.check}`);
    lines.push(...finding.detail.map((d) => `    ${d}`));
  }
  if (v.status !== 'pass' && v.serialLog) lines.push(`    serial log: ${v.serialLog}`);
  return lines;
}

/** A one-line tally: "3 passed, 1 failed". */
export function formatTally(verdicts: Verdict[]): string {
  const count = (s: Verdict['status']) => verdicts.filter((v) => v.status === s).length;
  const parts = [`${count('pass')} passed`, `${count('fail')} failed`, `${count('error')} errors`, `${count('unsupported')} unsupported`];
  return `${verdicts.length} cases: ${parts.join(', ')}`;
}
