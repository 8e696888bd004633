import { dirname, isAbsolute } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import type { Series, SeriesPatch } from './series.ts';
import { patchPaths } from './diff-paths.ts';
import { lastMeaningfulLine, run, type RunResult } from '../util/subprocess.ts';

const APPLY_TIMEOUT_MS = 60_000;

/** Context lines GNU patch may ignore at each end of a hunk (its own default, stated so the record means something). */
export const MAX_FUZZ = 2;

/** A hunk that did not apply at the line its patch names, or only with context lines ignored. */
export interface HunkAdjustment {
  /** Path in the tree (the new name for a rename). */
  file: string;
  /** 1-based, counted within the file's part of the patch, as git and patch count. */
  hunk: number;
  /** Line of the patched file where the hunk starts. */
  line: number;
  /** Lines between where the patch said and where it went; negative: earlier. */
  offset: number;
  /** Context lines ignored at each end of the hunk (0 when the context matched in full). */
  fuzz: number;
}

/** How one patch of a series went in. */
export interface AppliedPatch {
  patch: string;
  /** `git apply` first (exact context, offsets allowed); GNU `patch` with fuzz only when that fails. */
  tool: 'git apply' | 'patch';
  /** exact: every hunk where the patch says; offset: some moved, context intact; fuzz: some needed context ignored. */
  mode: 'exact' | 'offset' | 'fuzz';
  /** Only the hunks that moved or needed fuzz. */
  hunks: HunkAdjustment[];
}

/** Why part of a patch could not be applied: a hunk that does not fit, or a file-level problem. */
export interface ApplyFailure {
  file: string;
  /** Set for a hunk that does not fit; absent for a file-level problem (missing, binary, already applied). */
  hunk?: number;
  /** Where the patch puts the hunk: its new-side line number, as GNU patch reports it. */
  line?: number;
  reason: string;
}

/** One patch of a series did not apply, even with offsets and fuzz; names the patch, the files and the hunks. */
export class PatchApplyError extends HarnessError {
  /** Files the failures are in, in order of first mention. */
  readonly files: string[];

  constructor(
    readonly patch: string,
    readonly origin: string,
    readonly failures: ApplyFailure[],
    /** Used when no failure could be attributed to a file (e.g. a malformed patch). */
    fallbackDetail: string,
    sourceLabel: string,
  ) {
    super(
      `patch ${patch} does not apply to ${sourceLabel}: ${failures.length > 0 ? describeFailures(failures) : fallbackDetail}`,
      `rebase the series (${origin}) onto that source, or pick the matching --source`,
    );
    this.files = [...new Set(failures.map((f) => f.file))];
  }
}

interface ApplyOptions {
  sourceLabel: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/**
 * Applies the series to `tree` in order; each patch goes in whole or not at all.
 * Per patch: `git apply` (exact context; reports moved hunks), and when that
 * refuses, GNU patch with fuzz up to MAX_FUZZ after a dry run shows that every
 * hunk fits. Returns how each patch went in.
 */
export async function applySeries(series: Series, tree: string, options: ApplyOptions): Promise<AppliedPatch[]> {
  // loadSeries checked this already; checked again here, before the first patch goes in, for any Series however made.
  for (const patch of series.patches) patchPaths(patch.content, patch.name);
  const applied: AppliedPatch[] = [];
  for (const [index, patch] of series.patches.entries()) {
    options.log?.(`applying ${index + 1}/${series.patches.length} ${patch.name}`);
    const result = await applyPatch(patch, tree, options);
    for (const hunk of result.hunks) options.log?.(`  ${describeAdjustment(hunk)}`);
    applied.push(result);
  }
  return applied;
}

async function applyPatch(patch: SeriesPatch, tree: string, options: ApplyOptions): Promise<AppliedPatch> {
  const strict = await gitApply(patch, tree, options.signal);
  if (strict.exitCode === 0) return appliedPatch(patch.name, 'git apply', parseGitApplyVerbose(strict.stderr));

  const dryRun = await gnuPatch(patch, tree, { dryRun: true, signal: options.signal });
  const checked = parsePatchOutput(dryRun.all);
  if (dryRun.exitCode !== 0 || checked.failures.length > 0) {
    const detail = lastMeaningfulLine(dryRun.all) ?? firstGitError(strict.stderr);
    throw new PatchApplyError(patch.name, patch.origin, checked.failures, detail, options.sourceLabel);
  }
  const real = await gnuPatch(patch, tree, { dryRun: false, signal: options.signal });
  const done = parsePatchOutput(real.all);
  if (real.exitCode !== 0 || done.failures.length > 0) {
    // Only reachable if the tree changed between the two runs; the caller discards the tree.
    throw new PatchApplyError(patch.name, patch.origin, done.failures, `patch failed after a clean dry run: ${lastMeaningfulLine(real.all) ?? `exit ${real.exitCode}`}`, options.sourceLabel);
  }
  return appliedPatch(patch.name, 'patch', done.hunks);
}

/**
 * `git apply --verbose`: all or nothing, context must match exactly, a hunk may
 * move (reported). GIT_CEILING_DIRECTORIES stops git from treating an enclosing
 * repository as the tree, where it would apply paths relative to that repository's root.
 */
function gitApply(patch: SeriesPatch, tree: string, signal: AbortSignal | undefined): Promise<RunResult> {
  return run('git', ['apply', '--verbose', '--whitespace=nowarn', '-'], {
    cwd: tree,
    input: patch.content,
    timeoutMs: APPLY_TIMEOUT_MS,
    signal,
    env: { GIT_CEILING_DIRECTORIES: dirname(tree), LC_ALL: 'C' },
  });
}

/**
 * GNU patch, unified diffs only (no ed scripts), never asking, never applying
 * a patch that looks reversed or already applied, no backup or reject files,
 * no RCS checkouts, file names printed as they are. GNU patch itself refuses
 * names with `..` or absolute names and does not follow symbolic links.
 */
function gnuPatch(patch: SeriesPatch, tree: string, options: { dryRun: boolean; signal: AbortSignal | undefined }): Promise<RunResult> {
  const args = ['-p1', '--unified', '--batch', '--forward', `--fuzz=${MAX_FUZZ}`, '--no-backup-if-mismatch', '--reject-file=-', '--get=0', '--quoting-style=literal'];
  if (options.dryRun) args.push('--dry-run');
  return run('patch', args, { cwd: tree, input: patch.content, timeoutMs: APPLY_TIMEOUT_MS, signal: options.signal, env: { LC_ALL: 'C' } });
}

function appliedPatch(patch: string, tool: AppliedPatch['tool'], hunks: HunkAdjustment[]): AppliedPatch {
  const mode = hunks.some((h) => h.fuzz > 0) ? 'fuzz' : hunks.some((h) => h.offset !== 0) ? 'offset' : 'exact';
  return { patch, tool, mode, hunks };
}

const HUNK_SUCCEEDED = /^Hunk #(\d+) succeeded at (\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?\.$/;

/** Moved hunks from `git apply --verbose` (stderr, LC_ALL=C): "Checking patch F..." then "Hunk #N succeeded at L (offset K lines)." */
export function parseGitApplyVerbose(stderr: string): HunkAdjustment[] {
  const hunks: HunkAdjustment[] = [];
  let file = '';
  for (const line of stderr.split('\n')) {
    const checking = /^Checking patch (.+)\.\.\.$/.exec(line);
    if (checking?.[1]) file = newName(checking[1]);
    const hunk = adjustmentFrom(file, line);
    if (hunk) hunks.push(hunk);
  }
  return hunks;
}

/** "old => new" (how git names a rename) → "new". */
function newName(label: string): string {
  const arrow = label.indexOf(' => ');
  return arrow < 0 ? label : label.slice(arrow + 4);
}

function adjustmentFrom(file: string, line: string): HunkAdjustment | undefined {
  const match = HUNK_SUCCEEDED.exec(line);
  if (!match) return undefined;
  return { file, hunk: Number(match[1]), line: Number(match[2]), offset: Number(match[4] ?? 0), fuzz: Number(match[3] ?? 0) };
}

/** What GNU patch's output (stdout and stderr interleaved, LC_ALL=C) says about each file and hunk. */
export interface PatchOutput {
  hunks: HunkAdjustment[];
  failures: ApplyFailure[];
}

/** Per-file notices GNU patch prints, and what they mean for a person. */
const FILE_FAILURES: [RegExp, string][] = [
  [/^The next patch would create the file (.+),$/, 'the file to create already exists'],
  [/^The next patch would delete the file (.+),$/, 'the file to delete does not exist'],
  [/^File (.+) is not a regular file -- refusing to patch$/, 'not a regular file'],
  [/^File (.+): git binary diffs are not supported\.$/, 'binary change, which only applies exactly'],
  [/^Ignoring potentially dangerous file name (.+)$/, 'a path outside the tree'],
];

/**
 * Parses GNU patch 2.7 output: "checking|patching file F", "Hunk #N succeeded
 * at L [with fuzz F] [(offset K lines)].", "Hunk #N FAILED at L.", and the
 * per-file refusals (missing file, already applied, binary, unsafe name).
 */
export function parsePatchOutput(output: string): PatchOutput {
  const hunks: HunkAdjustment[] = [];
  const failures: ApplyFailure[] = [];
  const lines = output.split('\n');
  let file = '';
  for (const [index, line] of lines.entries()) {
    const announced = /^(?:checking|patching) (?:file|symbolic link) (.+?)(?: \((?:already )?(?:renamed|copied|read) from .+\))?$/.exec(line);
    if (announced?.[1]) file = announced[1];
    const hunk = adjustmentFrom(file, line);
    if (hunk) hunks.push(hunk);
    const failed = /^Hunk #(\d+) FAILED at (\d+)/.exec(line);
    if (failed) failures.push({ file, hunk: Number(failed[1]), line: Number(failed[2]), reason: `does not fit even with fuzz ${MAX_FUZZ}` });
    if (/^Reversed \(or previously applied\) patch detected!/.test(line)) failures.push({ file, reason: 'already applied, or the change is reversed' });
    if (/^can't find file to patch at input line \d+$/.test(line)) failures.push({ file: missingFileName(lines.slice(index + 1)), reason: 'no such file in the tree' });
    for (const [pattern, reason] of FILE_FAILURES) {
      const match = pattern.exec(line);
      if (match?.[1]) failures.push({ file: match[1], reason });
    }
    const fatal = /^patch: \*\*\*\* (.+)$/.exec(line);
    if (fatal?.[1]) failures.push({ file: file || '(patch)', reason: fatal[1] });
  }
  for (const name of [...hunks.map((h) => h.file), ...failures.map((f) => f.file)]) {
    if (isAbsolute(name) || name.split('/').includes('..')) failures.push({ file: name, reason: 'a path outside the tree' });
  }
  return { hunks, failures };
}

/** After "can't find file to patch", patch quotes the headers ("|--- a/F", "|+++ b/F"); the file is the one they name, stripped of a/ or b/. */
function missingFileName(following: string[]): string {
  const quoted = following.slice(0, 40).filter((l) => l.startsWith('|'));
  const header = (prefix: string) => quoted.map((l) => l.slice(1)).find((l) => l.startsWith(prefix))?.slice(prefix.length).split('\t')[0]?.trim();
  const name = [header('+++ '), header('--- ')].find((n) => n !== undefined && n !== '/dev/null');
  return name ? name.replace(/^[^/]*\//, '') : '(unnamed file)';
}

/** "hw/i386/pc.c: hunks #1 (line 17), #3 (line 80) do not fit even with fuzz 2; hw/core/numa.c: no such file in the tree". */
export function describeFailures(failures: readonly ApplyFailure[]): string {
  const parts: string[] = [];
  const files = [...new Set(failures.map((f) => f.file))];
  for (const file of files) {
    const ofFile = failures.filter((f) => f.file === file);
    const hunks = ofFile.filter((f) => f.hunk !== undefined);
    if (hunks.length > 0) {
      const list = hunks.map((f) => `#${f.hunk} (line ${f.line})`).join(', ');
      parts.push(`${file}: hunk${hunks.length > 1 ? 's' : ''} ${list} ${hunks.length > 1 ? 'do' : 'does'} not fit even with fuzz ${MAX_FUZZ}`);
    }
    for (const reason of new Set(ofFile.filter((f) => f.hunk === undefined).map((f) => f.reason))) parts.push(`${file}: ${reason}`);
  }
  return parts.join('; ');
}

/** "hw/i386/pc.c hunk #3 applied at line 912 with fuzz 1 (offset +14 lines)". */
export function describeAdjustment(hunk: HunkAdjustment): string {
  const fuzz = hunk.fuzz > 0 ? ` with fuzz ${hunk.fuzz}` : '';
  const offset = hunk.offset !== 0 ? ` (offset ${hunk.offset > 0 ? '+' : ''}${hunk.offset} line${Math.abs(hunk.offset) === 1 ? '' : 's'})` : '';
  return `${hunk.file} hunk #${hunk.hunk} applied at line ${hunk.line}${fuzz}${offset}`;
}

/** The most telling git apply error line: "patch failed: file:line" when present, else the first error. */
function firstGitError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const pick = lines.find((l) => l.startsWith('error: patch failed:')) ?? lines.find((l) => l.startsWith('error:')) ?? lines[0] ?? 'git apply failed';
  return pick.replace(/^error: /, '');
}
