/**
 * One persistent build tree per (source, configure arguments, device config):
 * cacheArea('qemu-tree')/<key>/src with its configured build/ directory. A
 * build brings the tree to "source + this series" by rewriting only the files
 * whose content differs (so ninja, keyed on mtimes, rebuilds only what the
 * series change touches; ccache sits behind it), then runs ninja there. The
 * content-addressed result cache (cacheArea('qemu')) is filled from it as
 * before; this tree only makes filling it cheaper.
 */
import { chmod, copyFile, lstat, mkdir, readFile, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { hashJson } from '../util/hash.ts';
import { acquireLock } from './tree-lock.ts';

/** What a tree remembers between builds; absent or unreadable means "not usable: make it afresh". */
interface TreeState {
  /** Paths (relative to src/) that may differ from the pristine source: what the last series (and anything before it) touched. */
  touched: string[];
  /** Whether configure succeeded in this tree. */
  configured: boolean;
}

const STATE_FILE = 'state.json';
/** Waiting for another build of the same tree: as long as a whole build may take. */
const LOCK_TIMEOUT_MS = 60 * 60 * 1000;

/** The tree's key: everything that decides the build directory's configuration, but not the series. */
export function treeKey(inputs: { source: { kind: string; hash: string }; configureArgs: readonly string[]; deviceConfig: string; builderVersion: number }): string {
  return hashJson({ source: inputs.source, configureArgs: [...inputs.configureArgs], deviceConfig: inputs.deviceConfig, builderVersion: inputs.builderVersion });
}

/** A locked tree holding the wanted files; `configured` false means configure must run in it first. */
export interface LockedTree {
  /** The source tree (configure and ninja run in src/build). */
  src: string;
  configured: boolean;
  /** Files rewritten or removed to get here (relative to src/); all of them when the tree was made afresh. */
  rewritten: string[] | 'all';
  /** Record that configure succeeded. */
  markConfigured(): Promise<void>;
}

/**
 * Locks the tree for `key`, brings its src/ to the content of `wanted` (a
 * full source tree in which only files with an mtime at or after
 * `changedSince` can differ from the pristine source), runs `work` and
 * unlocks. A tree that was never configured is made afresh: `wanted` is
 * moved there (so it must be a copy on the cache's file system).
 */
export async function withBuildTree<T>(
  key: string,
  wanted: { dir: string; changedSince: number },
  options: { cacheEnv?: NodeJS.ProcessEnv; signal?: AbortSignal; log: (line: string) => void },
  work: (tree: LockedTree) => Promise<T>,
): Promise<T> {
  await mkdir(join(cacheArea('qemu-tree', options.cacheEnv), key), { recursive: true });
  // One spelling of the path for good: meson records it, and ccache's CCACHE_BASEDIR must match it for hits.
  const dir = await realpath(join(cacheArea('qemu-tree', options.cacheEnv), key));
  const release = await acquireLock(join(dir, 'lock'), { timeoutMs: LOCK_TIMEOUT_MS, signal: options.signal, onWait: () => options.log(`waiting for another build in ${dir}`) });
  try {
    const src = join(dir, 'src');
    const state = await readState(dir);
    let tree: LockedTree;
    if (state?.configured) {
      const rewritten = await syncTree(wanted, src, state, dir);
      tree = { src, configured: true, rewritten, markConfigured: async () => {} };
    } else {
      options.log(`making the persistent build tree ${src}`);
      await rm(src, { recursive: true, force: true });
      const touched = (await listFiles(wanted.dir, wanted.changedSince)).changed;
      // The wanted tree is a throwaway copy on the same file system: it becomes the tree.
      await rename(wanted.dir, src);
      tree = { src, configured: false, rewritten: 'all', markConfigured: () => writeState(dir, { touched, configured: true }) };
    }
    return await work(tree);
  } finally {
    await release();
  }
}

/**
 * Rewrites in `src` exactly the files whose content differs from `wanted`:
 * those the new series changed, those the previous one had (now back to the
 * source), and files only one side has. The state records the union first,
 * so an interrupted sync is finished by the next one.
 */
async function syncTree(wanted: { dir: string; changedSince: number }, src: string, state: TreeState, dir: string): Promise<string[]> {
  const { changed, all } = await listFiles(wanted.dir, wanted.changedSince);
  const present = await listFiles(src, Infinity, ['build']);
  const extra = [...present.all].filter((p) => !all.has(p));
  const candidates = [...new Set([...changed, ...state.touched, ...extra])].sort();
  await writeState(dir, { ...state, touched: candidates });
  const rewritten: string[] = [];
  for (const path of candidates) {
    if (await bringFile(join(wanted.dir, path), join(src, path), all.has(path))) rewritten.push(path);
  }
  // What may still differ from the source now: what the new series changed, and what it deleted.
  await writeState(dir, { configured: true, touched: [...new Set([...changed, ...extra.filter((p) => !all.has(p))])].sort() });
  return rewritten;
}

/** Makes `to` hold what `from` holds (or removes it when `from` has no such file); true when something was written. */
async function bringFile(from: string, to: string, exists: boolean): Promise<boolean> {
  if (!exists) {
    const had = await lstat(to).then(() => true, () => false);
    await rm(to, { force: true });
    return had;
  }
  const [want, have] = await Promise.all([readFile(from), readFile(to).catch(() => undefined)]);
  const mode = (await lstat(from)).mode & 0o7777;
  if (have !== undefined && have.equals(want) && ((await lstat(to)).mode & 0o7777) === mode) return false;
  await mkdir(dirname(to), { recursive: true });
  // A fresh write gives the file a new mtime: that is what makes ninja rebuild what depends on it.
  await rm(to, { force: true });
  await copyFile(from, to);
  await chmod(to, mode);
  return true;
}

/** Every regular file under `root` (relative paths, `skip`ped top-level dirs left out), and those modified at or after `since`. */
async function listFiles(root: string, since: number, skip: readonly string[] = []): Promise<{ all: Set<string>; changed: string[] }> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const all = new Set<string>();
  const changed: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) continue;
    const path = relative(root, join(entry.parentPath, entry.name));
    if (skip.some((s) => path === s || path.startsWith(`${s}/`))) continue;
    all.add(path);
    if (since !== Infinity && (await lstat(join(root, path))).mtimeMs >= since) changed.push(path);
  }
  return { all, changed };
}

async function readState(dir: string): Promise<TreeState | undefined> {
  try {
    const data = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as Partial<TreeState>;
    return Array.isArray(data.touched) && typeof data.configured === 'boolean' ? { touched: data.touched, configured: data.configured } : undefined;
  } catch {
    return undefined;
  }
}

/** Written aside and renamed: a crash leaves the old state or the new one, never half of one. */
async function writeState(dir: string, state: TreeState): Promise<void> {
  const tmp = join(dir, `${STATE_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(state)}\n`);
  await rename(tmp, join(dir, STATE_FILE));
}
