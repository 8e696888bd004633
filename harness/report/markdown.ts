import { rowKind, type Finding, type RowChange, type TableRow, type Verdict } from '../core/vocabulary.ts';
import { paddedRangeText } from '../core/range-text.ts';
import { cellOf, countStatuses, unsupportedMessage } from './cell.ts';
import { shortSize } from './format.ts';

export interface MarkdownOptions {
  /** Heading of the summary. */
  title?: string;
  /** Where a verdict's memory map was written (shown under its failure section). */
  mapPath?: (v: Verdict) => string | undefined;
}

const STATUS: Record<Verdict['status'], string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', unsupported: 'UNSUPPORTED' };

/**
 * A Markdown summary for $GITHUB_STEP_SUMMARY: counts, one table row per
 * case × cell, then a section per failure (and error) with an expected-vs-actual
 * table of the rows that differ.
 */
export function toMarkdown(verdicts: readonly Verdict[], options: MarkdownOptions = {}): string {
  const sections = verdicts.filter((v) => v.status === 'fail' || v.status === 'error').map((v) => problemSection(v, options));
  return [header(verdicts, options.title ?? 'memmap-harness'), overview(verdicts), ...sections].join('\n\n') + '\n';
}

function header(verdicts: readonly Verdict[], title: string): string {
  const c = countStatuses(verdicts);
  const tally = `**${verdicts.length} case runs**: ${c.pass} passed, ${c.fail} failed, ${c.error} errors, ${c.unsupported} unsupported`;
  const note = c.unsupported > 0 ? ' (unsupported means the QEMU under test lacks the patch: not a pass)' : '';
  return `## ${cell(title)}\n\n${tally}${note}`;
}

function overview(verdicts: readonly Verdict[]): string {
  const rows = verdicts.map((v) => [`**${STATUS[v.status]}**`, cell(v.name), cell(v.machine), cell(v.firmware), cell(v.kernel), cell(v.qemu), `${(v.durationMs / 1000).toFixed(1)} s`]);
  return table(['status', 'case', 'machine', 'firmware', 'kernel', 'qemu', 'duration'], rows);
}

function problemSection(v: Verdict, options: MarkdownOptions): string {
  const parts = [`### ${STATUS[v.status]}: ${cell(v.name)} on ${code(cellOf(v))}`];
  if (v.reason) parts.push(v.status === 'unsupported' ? cell(unsupportedMessage(v)) : cell(v.reason));
  if (v.firmwareVariant) parts.push(`Firmware expectation in force: ${cell(v.firmwareVariant)}`);
  if (v.divergence) parts.push(`**First layer that left the model: ${cell(v.divergence.layer)}**: ${cell(v.divergence.says)}`);
  for (const note of [...(v.layerPassage ?? []), ...(v.layerNotes ?? [])]) parts.push(`Note: ${cell(note)}`);
  for (const f of v.findings.filter((x) => !x.ok)) parts.push(findingBlock(f));
  const map = options.mapPath?.(v);
  const facts = [v.serialLog === undefined ? '' : `serial log: ${code(v.serialLog)}`, map === undefined ? '' : `memory map: ${code(map)}`];
  const shown = facts.filter((x) => x !== '');
  if (shown.length > 0) parts.push(shown.join('<br>'));
  return parts.join('\n\n');
}

/** A failed check: its row changes as a table when it has them, else its detail lines verbatim. */
function findingBlock(f: Finding): string {
  const title = `#### ${cell(f.aspect)}${f.layer && f.layer !== f.aspect ? ` (${cell(f.layer)})` : ''}: ${cell(f.check)}`;
  if (f.rows && f.rows.length > 0) return `${title}\n\n${changeTable(f.rows, f.aspect === 'srat' ? 'node' : 'E820 type')}`;
  return `${title}\n\n${fenced(f.detail.join('\n'))}`;
}

/** Expected vs actual, one line per change; an absent side is a dash. */
export function changeTable(changes: readonly RowChange[], kindHeader: string): string {
  const side = (row: TableRow | undefined): string[] => (row ? [code(paddedRangeText(row)), shortSize(row.end - row.start + 1n), cell(rowKind(row))] : ['-', '-', '-']);
  const rows = changes.map((c) => [
    `**${c.change}**`,
    ...side('expected' in c ? c.expected : undefined),
    ...side('actual' in c ? c.actual : undefined),
  ]);
  const headers = ['change', 'expected range', 'size', kindHeader, 'actual range', 'size', kindHeader];
  return table(headers, rows);
}

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Plain text for a table cell or heading: Markdown punctuation is
 * backslash-escaped (a QEMU message's `<cache>` would otherwise vanish as an
 * HTML tag), `|` included so it cannot split the cell; newlines become spaces.
 */
export function cell(text: string): string {
  return text.replace(/[\\`*_[\]<>|#~]/g, (ch) => `\\${ch}`).replace(/\s*[\r\n]+\s*/g, ' ');
}

/** An inline code span; only `|` needs escaping inside a GFM table cell, and backtick runs need a longer delimiter. */
function code(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const fence = '`'.repeat(longestRun(flat, '`') + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function fenced(text: string): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}text\n${text}\n${fence}`;
}

function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}
