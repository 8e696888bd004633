import { dirname } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import type { Series, SeriesPatch } from './series.ts';
import { run } from './subprocess.ts';

const APPLY_TIMEOUT_MS = 60_000;

/** One patch of a series did not apply; names the patch and the source files git apply complained about. */
export class PatchApplyError extends HarnessError {
  constructor(
    readonly patch: string,
    readonly origin: string,
    readonly files: string[],
    readonly gitError: string,
    sourceLabel: string,
  ) {
    super(
      `patch ${patch} does not apply to ${sourceLabel}${files.length > 0 ? ` at ${files.join(', ')}` : ''}: ${gitError}`,
      `rebase the series (${origin}) onto that source, or pick the matching --source`,
    );
  }
}

/**
 * Applies the series to `tree` in order with `git apply` (each patch all or nothing).
 * GIT_CEILING_DIRECTORIES stops git from treating an enclosing repository as the
 * tree, where it would apply paths relative to that repository's root.
 */
export async function applySeries(series: Series, tree: string, options: { sourceLabel: string; signal?: AbortSignal; log?: (line: string) => void }): Promise<void> {
  for (const [index, patch] of series.patches.entries()) {
    options.log?.(`applying ${index + 1}/${series.patches.length} ${patch.name}`);
    await applyPatch(patch, tree, options);
  }
}

async function applyPatch(patch: SeriesPatch, tree: string, options: { sourceLabel: string; signal?: AbortSignal }): Promise<void> {
  const result = await run('git', ['apply', '--whitespace=nowarn', '-'], {
    cwd: tree,
    input: patch.content,
    timeoutMs: APPLY_TIMEOUT_MS,
    signal: options.signal,
    env: { GIT_CEILING_DIRECTORIES: dirname(tree), LC_ALL: 'C' },
  });
  if (result.exitCode === 0) return;
  throw new PatchApplyError(patch.name, patch.origin, filesFromGitApplyError(result.stderr), firstGitError(result.stderr), options.sourceLabel);
}

/** Source files named in git apply's errors, in order of first mention, without duplicates. */
export function filesFromGitApplyError(stderr: string): string[] {
  const files: string[] = [];
  const add = (file: string | undefined) => {
    if (file && !files.includes(file)) files.push(file);
  };
  for (const line of stderr.split('\n')) {
    add(/^error: patch failed: (.+):\d+$/.exec(line)?.[1]);
    add(/^error: (.+): (?:patch does not apply|No such file or directory|does not exist in index|already exists in working directory|does not match index|wrong type)$/.exec(line)?.[1]);
  }
  return files;
}

/** The most telling error line: "patch failed: file:line" when present, else the first error. */
function firstGitError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const pick = lines.find((l) => l.startsWith('error: patch failed:')) ?? lines.find((l) => l.startsWith('error:')) ?? lines[0] ?? 'git apply failed';
  return pick.replace(/^error: /, '');
}
