/**
 * One persistent build tree per (source, configure arguments, device config):
 * cacheArea('qemu-tree')/<key>/src with its configured build/ directory. A
 * build brings the tree to "source + this series" by rewriting only the files
 * whose content differs (so ninja, keyed on mtimes, rebuilds only what the
 * series change touches; ccache sits behind it), then runs ninja there. The
 * content-addressed result cache (cacheArea('qemu')) is filled from it as
 * before; this tree only makes filling it cheaper.
 */
import { chmod, copyFile, lstat, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { copyTree, type PristineTree } from '../source/fetch.ts';
import { cacheArea } from '../util/cache-dirs.ts';
import { hashJson } from '../util/hash.ts';
import { acquireLock } from './tree-lock.ts';
import { seriesPathsOf } from '../source/diff-paths.ts';

/** What a tree remembers between builds; absent or unreadable means "not usable: make it afresh". */
interface TreeState {
  /** Paths (relative to src/) that may differ from the pristine source: what the last series (and anything before it) touched. */
  touched: string[];
  /** Whether configure succeeded in this tree. */
  configured: boolean;
}

const STATE_FILE = 'state.json';
/** Build trees kept (about 1.5 GiB each): a new one (new source or configure arguments) pushes out the least recently used. */
export const KEEP_TREES = 4;
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
  /** Files rewritten or removed to get here (relative to src/); 'all' when the tree was made afresh. */
  rewritten: string[] | 'all';
  /** Record that configure succeeded. */
  markConfigured(): Promise<void>;
}

/** What the tree must hold: the pristine source, with the series' files taken from `patched` (a sparse tree of just those). */
export interface WantedTree {
  pristine: PristineTree;
  patched: string;
  /** Every path the series mentions (relative); a path absent from `patched` was deleted by the series. */
  seriesPaths: readonly string[];
}

/**
 * Locks the tree for `key`, brings its src/ to `wanted`, runs `work` and
 * unlocks. A tree that was never configured is made afresh from the
 * pristine source first.
 */
export async function withBuildTree<T>(
  key: string,
  wanted: WantedTree,
  options: { cacheEnv?: NodeJS.ProcessEnv; signal?: AbortSignal; log: (line: string) => void },
  work: (tree: LockedTree) => Promise<T>,
): Promise<T> {
  await mkdir(join(cacheArea('qemu-tree', options.cacheEnv), key), { recursive: true });
  // One spelling of the path for good: meson records it, and ccache's CCACHE_BASEDIR must match it for hits.
  const dir = await realpath(join(cacheArea('qemu-tree', options.cacheEnv), key));
  const release = await acquireLock(join(dir, 'lock'), { timeoutMs: LOCK_TIMEOUT_MS, signal: options.signal, onWait: () => options.log(`waiting for another build in ${dir}`) });
  try {
    const src = join(dir, 'src');
    let state = await readState(dir);
    const fresh = !state?.configured;
    if (fresh) {
      await pruneTrees(dirname(dir), key, KEEP_TREES);
      options.log(`making the persistent build tree ${src}`);
      await rm(src, { recursive: true, force: true });
      await copyTree(wanted.pristine, src, options.signal);
      state = { touched: [], configured: false };
    }
    const rewritten = await syncTree(wanted, src, state ?? { touched: [], configured: false }, dir);
    const tree: LockedTree = {
      src,
      configured: !fresh,
      rewritten: fresh ? 'all' : rewritten,
      markConfigured: () => writeState(dir, { touched: [...wanted.seriesPaths].sort(), configured: true }),
    };
    return await work(tree);
  } finally {
    await release();
  }
}

/**
 * Rewrites in `src` exactly the files whose content differs from what is
 * wanted: those the new series mentions, and those the previous one did (back
 * to the source). The state records the union first, so an interrupted sync
 * is finished by the next one.
 */
async function syncTree(wanted: WantedTree, src: string, state: TreeState, dir: string): Promise<string[]> {
  const inSeries = new Set(wanted.seriesPaths);
  const candidates = [...new Set([...wanted.seriesPaths, ...state.touched])].sort();
  await writeState(dir, { ...state, touched: candidates });
  const rewritten: string[] = [];
  for (const path of candidates) {
    const from = join(inSeries.has(path) ? wanted.patched : wanted.pristine.dir, path);
    if (await bringFile(from, join(src, path))) rewritten.push(path);
  }
  if (state.configured) await writeState(dir, { configured: true, touched: [...wanted.seriesPaths].sort() });
  return rewritten;
}

/** Makes `to` hold what `from` holds, or removes it when there is no `from`; true when something was written. */
async function bringFile(from: string, to: string): Promise<boolean> {
  const want = await readFile(from).catch(() => undefined);
  const have = await readFile(to).catch(() => undefined);
  if (want === undefined) {
    await rm(to, { force: true });
    return have !== undefined;
  }
  const mode = (await lstat(from)).mode & 0o7777;
  if (have !== undefined && have.equals(want) && ((await lstat(to)).mode & 0o7777) === mode) return false;
  await mkdir(dirname(to), { recursive: true });
  // A fresh write gives the file a new mtime: that is what makes ninja rebuild what depends on it.
  await rm(to, { force: true });
  await copyFile(from, to);
  await chmod(to, mode);
  return true;
}

/**
 * Empties all but the `keep` most recently used trees in `area` (besides
 * `current`), each under its own lock; a tree in use by another build is
 * left alone. The lock file stays, so a build that comes next simply makes
 * that tree afresh.
 */
export async function pruneTrees(area: string, current: string, keep: number): Promise<string[]> {
  const names = (await readdir(area).catch(() => [] as string[])).filter((n) => n !== current);
  const lastUse = async (name: string) => stat(join(area, name, STATE_FILE)).then((s) => s.mtimeMs, () => 0);
  const aged = await Promise.all(names.map(async (name) => ({ name, used: await lastUse(name) })));
  const emptied: string[] = [];
  for (const { name } of aged.sort((a, b) => b.used - a.used).slice(Math.max(0, keep - 1))) {
    const release = await acquireLock(join(area, name, 'lock'), { timeoutMs: 1_000 }).catch(() => undefined);
    if (!release) continue;
    try {
      await rm(join(area, name, STATE_FILE), { force: true });
      await rm(join(area, name, 'src'), { recursive: true, force: true });
      emptied.push(name);
    } finally {
      await release();
    }
  }
  return emptied;
}

/** Every path a series' diff headers name (old and new names), relative to the tree; /dev/null left out; a path leaving the tree is refused. */
export function seriesPaths(patches: readonly { name?: string; content: Buffer | string }[]): string[] {
  return seriesPathsOf(patches.map((p, i) => ({ name: p.name ?? `#${i + 1}`, content: p.content })));
}

/** Copies the files of `paths` that exist in `from` into `to` (the sparse tree a series is applied to). */
export async function copySome(from: string, to: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const present = await lstat(join(from, path)).then((s) => s.isFile(), () => false);
    if (!present) continue;
    await mkdir(dirname(join(to, path)), { recursive: true });
    await copyFile(join(from, path), join(to, path));
    await chmod(join(to, path), (await lstat(join(from, path))).mode & 0o7777);
  }
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
