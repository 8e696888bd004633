import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';
import { scaledMs } from './timeouts.ts';

/** Which harness made a report: the package version and, in a git clone, the commit (with `dirty` when the tree has local changes). */
export interface HarnessVersion {
  version: string;
  commit?: string;
  dirty?: boolean;
}

let cached: HarnessVersion | undefined;

/** The harness's version and commit, read once per process. */
export function harnessVersion(): HarnessVersion {
  cached ??= readVersion();
  return cached;
}

/** `0.1.0 (commit abc123…, local changes)`: what `--version` prints. */
export function formatHarnessVersion(v: HarnessVersion = harnessVersion()): string {
  if (v.commit === undefined) return `memmap-harness ${v.version}`;
  return `memmap-harness ${v.version} (commit ${v.commit}${v.dirty ? ', with local changes' : ''})`;
}

function readVersion(): HarnessVersion {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const commit = git(['rev-parse', 'HEAD']);
  if (commit === undefined) return { version: pkg.version };
  // Untracked files (results/, caches) do not make a tree dirty; changed tracked files do.
  const changes = git(['status', '--porcelain', '--untracked-files=no']);
  return { version: pkg.version, commit, dirty: changes !== undefined && changes !== '' };
}

/** A git answer about the repository, or undefined outside a clone (or without git). */
function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', timeout: scaledMs(10_000), stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}
