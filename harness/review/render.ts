import { basename } from 'node:path';
import { differenceLines, type Difference } from '../compare/diff.ts';
import type { Judged, PlanEntry, SideRun } from '../compare/run-sides.ts';
import type { InterfaceReport } from '../interface/classify.ts';
import type { SeriesMail } from './series-mail.ts';

/** Lines of review.md stay below this many columns: it is pasted into a mail reply. */
export const MAX_COLUMNS = 99;

/** Everything a review found, as review.md and review.json present it. */
export interface ReviewResult {
  series: { path: string; name: string; mail: SeriesMail };
  /** The source the series was applied to, in words. */
  appliedTo: string;
  /** `build`'s notes: each moved or fuzzed hunk, the base-commit check. */
  applyNotes: string[];
  interface: Pick<InterfaceReport, 'summary' | 'profile' | 'profileReason' | 'qemuVersion' | 'interfaces'>;
  plan: { entries: PlanEntry[]; why: string[] };
  runs: { series: SideRun; refs: SideRun[] };
  differences: { against: string; rows: Difference[] }[];
  /** The Tested-by line, given by the user; printed only when everything passed. */
  testedBy?: string;
  harness: string;
  /** The command that reproduces the review, as shell words (quoted where needed). */
  command: string[];
  exitStatus: number;
}

/** review.md: plain text for a mail reply, every line under 100 columns, no markup beyond indentation. */
export function reviewText(r: ReviewResult): string {
  const { series, refs } = r.runs;
  const mail = r.series.mail;
  const sides = [series, ...refs];
  const names = sides.map((s) => columnName(s.side.name));
  const lines: string[] = [];
  const say = (text: string, indent = '') => lines.push(...wrap(text, indent));
  say(`Review of: ${mail.subject}`);
  say(`Series: ${r.series.name} (${count(mail.patches.length, 'patch', 'patches')}${mail.hasCoverLetter ? ', cover letter skipped' : ''})`);
  say(`Base: ${mail.baseCommit ? `base-commit ${mail.baseCommit}` : 'the series names no base-commit'}`);
  say(`Applied to: ${r.appliedTo}`);
  lines.push('', 'Apply notes:');
  if (r.applyNotes.length === 0) say('every hunk applied where its patch says', '  ');
  for (const note of r.applyNotes) say(note, '  ');
  lines.push('', 'Interface:');
  say(`${r.interface.summary}${r.interface.qemuVersion ? ` (QEMU ${r.interface.qemuVersion})` : ''}`, '  ');
  say(`revision profile: ${r.interface.profile ?? 'none'} (${r.interface.profileReason})`, '  ');
  lines.push('', 'What ran:');
  for (const why of r.plan.why) say(`- ${why}`, '  ');
  for (const ref of refs) say(`- the same on ${ref.side.name} (${ref.qemu.label}, revision ${ref.profile ?? 'unknown'})`, '  ');
  lines.push('', 'Verdicts (pass/FAIL/ERROR; unsup: unsupported, as that revision expects; n/a: the case is');
  lines.push('about other revisions):', '');
  lines.push(...verdictTable(r.plan.entries, sides, names));
  for (const diff of r.differences) {
    lines.push('', `Differences, ${series.side.name} against ${diff.against}:`);
    const rows = differenceLines(diff.rows, { a: series.side.name, b: diff.against });
    if (rows.length === 0) say('none: every aspect of every case ran the same', '  ');
    for (const row of rows) say(row, '  ');
  }
  lines.push('', `Result: ${resultLine(sides)}`);
  // Only what the user gave, and only when every run of every side passed.
  if (r.testedBy && sides.every((s) => s.judged.length > 0 && s.judged.every((j) => j.outcome === 'pass'))) lines.push('', `Tested-by: ${r.testedBy}`);
  lines.push('', '-- ', `memmap-harness ${r.harness}`, 'reproduce with:', ...shellLines(r.command, '  '));
  return `${lines.join('\n')}\n`;
}

/** review.json: the interface, how the series applied, each case's status per side, the differences. */
export function reviewJson(r: ReviewResult): unknown {
  const { series, refs } = r.runs;
  return {
    series: { path: r.series.path, subject: r.series.mail.subject, baseCommit: r.series.mail.baseCommit, patches: r.series.mail.patches },
    appliedTo: r.appliedTo,
    applied: { notes: r.applyNotes, patches: series.qemu.build?.applied ?? [], base: series.qemu.build?.base ?? null },
    interface: r.interface,
    cases: r.plan.entries.map((entry) => ({
      name: entry.spec.name,
      firmware: entry.firmware ?? entry.spec.firmware,
      ...Object.fromEntries(
        [['status', series] as const, ...refs.map((ref) => [`against:${ref.side.name}`, ref] as const)].map(([key, side]) => {
          const j = judgedFor(side, entry);
          return [key, j ? { status: j.verdict.status, outcome: j.outcome, ...(j.why ?? j.verdict.reason ? { why: j.why ?? j.verdict.reason } : {}) } : { status: 'n/a' }];
        }),
      ),
    })),
    differences: r.differences.map((d) => ({ against: d.against, rows: differenceLines(d.rows, { a: series.side.name, b: d.against }), data: d.rows })),
    testedBy: r.testedBy ?? null,
    harness: r.harness,
    commandLine: r.command.join(' '),
    exitStatus: r.exitStatus,
  };
}

function verdictTable(entries: readonly PlanEntry[], sides: readonly SideRun[], names: string[]): string[] {
  const rows = entries.map((e) => [e.spec.name, e.firmware ?? e.spec.firmware, ...sides.map((s) => cell(judgedFor(s, e)))]);
  const header = ['case', 'firmware', ...names];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `  ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The judged run of a plan entry on a side; undefined when it did not run there (n/a). */
export function judgedFor(side: SideRun, entry: PlanEntry): Judged | undefined {
  const firmware = entry.firmware ?? entry.spec.firmware;
  return side.judged.find((j) => j.verdict.name === entry.spec.name && j.verdict.firmware === firmware);
}

function cell(j: Judged | undefined): string {
  if (!j) return 'n/a';
  if (j.verdict.status === 'unsupported') return j.outcome === 'pass' ? 'unsup' : 'UNSUP!';
  return j.outcome === 'pass' ? 'pass' : j.outcome.toUpperCase();
}

function resultLine(sides: readonly SideRun[]): string {
  const all = sides.flatMap((s) => s.judged);
  const bad = all.filter((j) => j.outcome !== 'pass');
  if (bad.length === 0) return `all ${all.length} runs as each revision expects.`;
  return `${bad.length} of ${all.length} runs not as expected: ${bad.map((j) => `${j.verdict.name} [${j.verdict.firmware}] ${j.outcome}`).join(', ')}.`;
}

/** A side's name as a column header: the last part of a path. */
export function columnName(name: string): string {
  return basename(name.replace(/\/+$/, '')) || name;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A command line as lines a shell reads back as one command: broken between
 * words, every line but the last ending in ` \\`. Words are never split (a
 * word longer than a line stays whole on its own line).
 */
export function shellLines(words: readonly string[], indent = ''): string[] {
  const out: string[] = [];
  let line = indent;
  for (const word of words) {
    const sep = line.trim().length === 0 ? '' : ' ';
    if (line.length + sep.length + word.length + 2 > MAX_COLUMNS && line.trim().length > 0) {
      out.push(`${line} \\`);
      line = `${indent}    ${word}`;
    } else {
      line += sep + word;
    }
  }
  out.push(line);
  return out;
}

/** Wraps at spaces so every line (indent included) is at most MAX_COLUMNS; continuation lines get 4 more spaces. */
export function wrap(text: string, indent = ''): string[] {
  const out: string[] = [];
  let line = indent;
  const limit = MAX_COLUMNS;
  for (const word of text.split(' ')) {
    const sep = line.trim().length === 0 ? '' : ' ';
    if (line.length + sep.length + word.length > limit && line.trim().length > 0) {
      out.push(line);
      line = `${indent}    ${word}`;
    } else {
      line += sep + word;
    }
    // A single word longer than the line (a long path) is cut so no line passes the limit.
    while (line.length > limit) {
      out.push(line.slice(0, limit));
      line = `${indent}    ${line.slice(limit)}`;
    }
  }
  out.push(line);
  return out;
}
