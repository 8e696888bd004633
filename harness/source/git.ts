import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hashJson, sha256 } from '../util/hash.ts';
import { HarnessError } from '../util/errors.ts';
import type { SourceKind } from './spec.ts';
import { run, runOk } from '../util/subprocess.ts';

const LS_REMOTE_TIMEOUT_MS = 2 * 60 * 1000;
const FETCH_TIMEOUT_MS = 20 * 60 * 1000;
const LOCAL_GIT_TIMEOUT_MS = 2 * 60 * 1000;
const FULL_SHA = /^[0-9a-f]{40}$/;

/** Local path components never taken from a local tree: VCS metadata and the conventional in-tree build directory. */
export const LOCAL_TREE_EXCLUDES = ['.git', 'build'] as const;

export class GitSourceError extends HarnessError {}

/** The commit `ref` names at `url`: a full SHA is taken as is, anything else is asked of the remote. */
export async function resolveGitCommit(url: string, ref: string, signal?: AbortSignal): Promise<string> {
  if (FULL_SHA.test(ref)) return ref;
  const result = await run('git', ['ls-remote', '--', url, ref, `${ref}^{}`], { timeoutMs: LS_REMOTE_TIMEOUT_MS, signal });
  if (result.exitCode !== 0) {
    throw new GitSourceError(`git ls-remote ${url} failed: ${result.stderr.trim().split('\n').pop() ?? `exit ${result.exitCode}`}`, 'check the URL and that the host is reachable');
  }
  const commit = pickCommit(result.stdout, ref);
  if (!commit) throw new GitSourceError(`${url} has no branch or tag '${ref}'`, 'give an existing branch, tag or a full 40-hex commit after #');
  return commit;
}

/** From ls-remote output, the peeled commit of an annotated tag if present, else the ref's own SHA. */
export function pickCommit(lsRemote: string, ref: string): string | undefined {
  const rows = lsRemote.split('\n').map((l) => l.split('\t')).filter((r): r is [string, string] => r.length === 2 && FULL_SHA.test(r[0] ?? ''));
  const matches = (name: string) => name === ref || name === `refs/heads/${ref}` || name === `refs/tags/${ref}` || name.endsWith(`/${ref}`);
  const peeled = rows.find(([, name]) => name.endsWith('^{}') && matches(name.slice(0, -3)));
  return peeled?.[0] ?? rows.find(([, name]) => matches(name))?.[0];
}

/** Fetches exactly `commit` (depth 1) into `dest` and leaves a plain tree without `.git`. */
export async function fetchGitTree(url: string, ref: string, commit: string, dest: string, signal?: AbortSignal): Promise<void> {
  const git = (args: string[], timeoutMs = LOCAL_GIT_TIMEOUT_MS) => run('git', ['-C', dest, ...args], { timeoutMs, signal });
  await runOk('git', ['init', '-q', dest], { timeoutMs: LOCAL_GIT_TIMEOUT_MS, signal });
  // Fetching by SHA needs server support; fall back to the ref and check it still names the commit.
  let fetched = await git(['fetch', '-q', '--depth', '1', '--', url, commit], FETCH_TIMEOUT_MS);
  if (fetched.exitCode !== 0 && !FULL_SHA.test(ref)) fetched = await git(['fetch', '-q', '--depth', '1', '--', url, ref], FETCH_TIMEOUT_MS);
  if (fetched.exitCode !== 0) throw new GitSourceError(`git fetch ${url} ${ref} failed: ${fetched.stderr.trim().split('\n').pop() ?? ''}`, 'check the URL and ref');
  const head = (await git(['rev-parse', 'FETCH_HEAD^{commit}'])).stdout.trim();
  if (head !== commit) throw new GitSourceError(`${url} ${ref} moved while fetching (expected ${commit}, got ${head})`, 'rerun to build the new commit');
  await runOk('git', ['-C', dest, 'checkout', '-q', 'FETCH_HEAD'], { timeoutMs: LOCAL_GIT_TIMEOUT_MS, signal });
  await rm(join(dest, '.git'), { recursive: true, force: true });
}

/** What a local tree is: its version string, a hash of its content, and the files to copy out of it. */
export interface LocalTreeState {
  version: string;
  hash: string;
  /** Relative paths to copy; all regular files and links except LOCAL_TREE_EXCLUDES. */
  files: string[];
}

/**
 * A git work tree is identified by HEAD plus the diff against it plus its untracked,
 * non-ignored files (by path, size, mtime); any other directory by every file's
 * path, size and mtime.
 */
export async function localTreeState(dir: string, signal?: AbortSignal): Promise<LocalTreeState> {
  const opts = { timeoutMs: LOCAL_GIT_TIMEOUT_MS, signal, cwd: dir };
  const head = await run('git', ['rev-parse', '--verify', '-q', 'HEAD^{commit}'], opts).catch(() => undefined);
  const top = await run('git', ['rev-parse', '--show-prefix'], opts).catch(() => undefined);
  if (head?.exitCode !== 0 || top?.exitCode !== 0) return plainTreeState(dir);
  const commit = head.stdout.trim();
  const diff = await runOk('git', ['diff', '--binary', 'HEAD', '--', '.'], { ...opts, what: 'git diff HEAD' });
  const listed = await runOk('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.'], { ...opts, what: 'git ls-files' });
  const untracked = await runOk('git', ['ls-files', '-z', '--others', '--exclude-standard', '--', '.'], { ...opts, what: 'git ls-files --others' });
  const untrackedNames = splitNul(untracked.stdout);
  const untrackedStats = await statAll(dir, untrackedNames);
  const files: string[] = [];
  for (const name of new Set(splitNul(listed.stdout))) {
    if (isExcluded(name)) continue;
    if (await lstat(join(dir, name)).then(() => true, () => false)) files.push(name); // deleted files stay in the index
  }
  const dirty = diff.stdout.length > 0 || untrackedNames.length > 0;
  return {
    version: `${commit}${dirty ? '-dirty' : ''}`,
    hash: hashJson({ head: commit, diff: sha256(diff.stdout), untracked: untrackedStats }),
    files: files.sort(),
  };
}

async function plainTreeState(dir: string): Promise<LocalTreeState> {
  const files = (await walk(dir, '')).sort();
  return { version: 'unversioned', hash: hashJson({ files: await statAll(dir, files) }), files };
}

async function walk(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (isExcluded(name)) continue;
    if (entry.isDirectory()) out.push(...(await walk(root, name)));
    else out.push(name);
  }
  return out;
}

async function statAll(root: string, names: string[]): Promise<[string, number, number][]> {
  const rows: [string, number, number][] = [];
  for (const name of [...names].sort()) {
    const s = await lstat(join(root, name)).catch(() => undefined);
    if (s) rows.push([name, s.size, Math.trunc(s.mtimeMs)]);
  }
  return rows;
}

function isExcluded(relPath: string): boolean {
  const first = relPath.split('/')[0] ?? '';
  return (LOCAL_TREE_EXCLUDES as readonly string[]).includes(first);
}

function splitNul(text: string): string[] {
  return text.split('\0').filter((s) => s.length > 0);
}

/** Whether the source is the commit a series names as its base (`base-commit:`); a mismatch is a warning, never a refusal. */
export interface BaseCheck {
  /** The series' base-commit. */
  baseCommit: string;
  /**
   * match: the source is that commit; dirty: it is, with local changes on top;
   * mismatch: the source is another commit; unknown: the source is not a git commit (a tarball, a plain directory).
   */
  status: 'match' | 'dirty' | 'mismatch' | 'unknown';
  /** The commit the source was checked out at, when it is a git source. */
  sourceCommit?: string;
  /** One line for a person. */
  summary: string;
}

/**
 * Compares a series' base commit with a source's identity: a `git:` source is
 * its resolved commit, a local git tree its HEAD (`-dirty` with local changes).
 */
export function checkBaseCommit(baseCommit: string, source: { spec: string; kind: SourceKind; version: string }): BaseCheck {
  const short = baseCommit.slice(0, 12);
  const commit = source.kind === 'git' ? source.version : /^([0-9a-f]{40}(?:[0-9a-f]{24})?)(-dirty)?$/.exec(source.version)?.[1];
  if (source.kind === 'debian' || !commit) {
    const what = source.kind === 'debian' ? 'a Debian tarball' : 'not a git checkout';
    return { baseCommit, status: 'unknown', summary: `the series names base-commit ${short}; ${source.spec} is ${what}, so that cannot be checked` };
  }
  if (commit !== baseCommit) {
    return { baseCommit, status: 'mismatch', sourceCommit: commit, summary: `the series was made against base-commit ${short}, but ${source.spec} is at ${commit.slice(0, 12)}` };
  }
  if (source.version.endsWith('-dirty')) {
    return { baseCommit, status: 'dirty', sourceCommit: commit, summary: `${source.spec} is at the series' base-commit ${short}, with local changes on top` };
  }
  return { baseCommit, status: 'match', sourceCommit: commit, summary: `${source.spec} is at the series' base-commit ${short}` };
}
