/**
 * Measures the QEMU builder (not a test): the rebuild after a one-line edit
 * in one patch, after a new series, and (unless --skip-cold) a cold build,
 * each next to its target from issue 13, as ratios.
 *
 *   npx tsx scripts/bench-build.ts [--patches DIR] [--other DIR] [--skip-cold] [--cold-ccache]
 *
 * The results go to a throwaway XDG_CACHE_HOME (deleted at the end), so no
 * bench entry stays in the result cache. The rebuilds use the real persistent
 * build tree (qemu-tree/, linked in) and the shared ccache: that is what a
 * patch author's next build uses. The cold build gets a tree of its own in
 * the throwaway cache; --cold-ccache gives it an empty ccache too. The
 * downloaded Debian source is linked in (the network is not what is measured).
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { cacheArea, cacheRoot } from '../harness/util/cache-dirs.ts';
import { DEFAULT_SERIES_DIR } from '../harness/qemu-build/config.ts';
import { ensureQemu, type QemuBuild } from '../harness/qemu-build/qemu.ts';
import { stderrReporter } from '../harness/host/progress.ts';
import { REPO_ROOT } from '../harness/util/paths.ts';

/** One measured row: what, seconds, the target (if the issue sets one), and where the time went. */
export interface BuildRow {
  what: string;
  seconds: number;
  targetSeconds?: number;
  detail: string;
}

/** Runs the build measurements and returns their rows (scripts/bench.ts prints them with its own). */
export async function measureBuilds(options: { patches: string; other: string; skipCold: boolean; coldCcache: boolean }): Promise<BuildRow[]> {
  const throwaway = await mkdtemp(join(tmpdir(), 'memmap-harness-bench-'));
  const sharedTree = { ...process.env, XDG_CACHE_HOME: join(throwaway, 'warm') };
  const rows: BuildRow[] = [];
  try {
    await linkAreas(sharedTree, ['downloads', 'sources', 'qemu-tree']);
    const ccache = cacheArea('ccache');
    const build = (patches: string, env: NodeJS.ProcessEnv, ccacheDir: string) => timed(() => ensureQemu({ patches, cacheEnv: env, ccacheDir, reporter: stderrReporter() }), ccacheDir);

    const primed = await build(options.patches, sharedTree, ccache);
    rows.push({ what: 'tree brought to the series (prime)', seconds: primed.seconds, detail: describe(primed) });

    for (const kind of ['comment', 'code'] as const) {
      const edited = join(throwaway, `series-${kind}-edited`);
      const changed = await copySeriesWithOneLineChanged(options.patches, edited, kind);
      const oneLine = await build(edited, sharedTree, ccache);
      rows.push({ what: `rebuild, one-line ${kind} edit in one patch`, seconds: oneLine.seconds, targetSeconds: 30, detail: `${changed}; ${describe(oneLine)}` });
    }

    const other = await build(options.other, sharedTree, ccache);
    rows.push({ what: `rebuild, new series (${options.other.split('/').slice(-1)[0]})`, seconds: other.seconds, targetSeconds: 120, detail: describe(other) });

    const back = await build(options.patches, sharedTree, ccache);
    rows.push({ what: 'back to the first series (cache hit)', seconds: back.seconds, detail: describe(back) });

    if (!options.skipCold) {
      const cold = { ...process.env, XDG_CACHE_HOME: join(throwaway, 'cold') };
      await linkAreas(cold, ['downloads', 'sources']);
      const coldCcache = options.coldCcache ? join(throwaway, 'ccache') : ccache;
      const result = await build(options.patches, cold, coldCcache);
      rows.push({ what: `cold build (${options.coldCcache ? 'empty' : 'shared'} ccache)`, seconds: result.seconds, targetSeconds: 300, detail: describe(result) });
    }
  } finally {
    await rm(throwaway, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as a table: seconds, target, ratio to the target, where the time went. */
export function formatBuildRows(rows: readonly BuildRow[]): string[] {
  return rows.map((r) => {
    const target = r.targetSeconds === undefined ? ''.padEnd(22) : `target ${String(r.targetSeconds).padStart(4)} s ${ratio(r.seconds, r.targetSeconds)}`;
    return `  ${r.what.padEnd(44)} ${r.seconds.toFixed(1).padStart(7)} s  ${target}  ${r.detail}`;
  });
}

/** "0.63x ok" or "2.10x MISS": measured over target. */
export function ratio(seconds: number, target: number): string {
  const r = seconds / target;
  return `${r.toFixed(2)}x ${r <= 1 ? 'ok  ' : 'MISS'}`;
}

async function linkAreas(env: NodeJS.ProcessEnv, areas: readonly string[]): Promise<void> {
  await mkdir(cacheRoot(env), { recursive: true });
  for (const area of areas) {
    await mkdir(cacheArea(area), { recursive: true });
    await symlink(cacheArea(area), cacheArea(area, env));
  }
}

interface Timed {
  value: QemuBuild;
  seconds: number;
  ccache: string;
}

async function timed(work: () => Promise<QemuBuild>, ccacheDir: string): Promise<Timed> {
  const before = await ccacheStats(ccacheDir);
  const started = process.hrtime.bigint();
  const value = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { value, seconds, ccache: ccacheLine(before, await ccacheStats(ccacheDir)) };
}

function describe(t: Timed): string {
  if (t.value.cacheHit) return 'cache hit';
  const phases = Object.entries(t.value.manifest.phaseSeconds).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
  return `${phases}; ${t.ccache}`;
}

type CcacheStats = Record<string, number>;

/** `ccache --print-stats` counters, or undefined without ccache. */
async function ccacheStats(dir: string): Promise<CcacheStats | undefined> {
  const result = await execa('ccache', ['--print-stats'], { env: { CCACHE_DIR: dir }, reject: false, timeout: 30_000 }).catch(() => undefined);
  if (!result || result.exitCode !== 0) return undefined;
  return Object.fromEntries(result.stdout.split('\n').map((l) => l.split('\t')).filter((p) => p.length === 2).map(([k, v]) => [k, Number(v)]));
}

function ccacheLine(before: CcacheStats | undefined, after: CcacheStats | undefined): string {
  if (!before || !after) return 'ccache n/a';
  const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  return `ccache ${delta('direct_cache_hit') + delta('preprocessed_cache_hit')} hits / ${delta('cache_miss')} misses`;
}

/** How the one-line edit looks: a comment (ccache may serve it from its preprocessed cache) or code (an error message: a real compile). */
type EditKind = 'comment' | 'code';
const EDITS: Record<EditKind, { line: RegExp; edit: (line: string) => string }> = {
  comment: {
    line: /^\+(.*\/\*.*\*\/\s*|\s+\*\s+\S.*|\s*\/\/\s*\S.*)$/,
    edit: (line) => (line.includes('*/') ? line.replace(/\s*\*\/\s*$/, ' (bench) */') : `${line} (bench)`),
  },
  code: { line: /^\+.*\b(error_report|error_setg)\([^"]*"/, edit: (line) => line.replace(/\b(error_report|error_setg)\(([^"]*)"/, '$1($2"bench: ') },
};

/**
 * Copies the series and edits one added line of the kind asked for, in the
 * last patch that adds one (a later patch that only touches other files
 * cannot depend on it).
 */
async function copySeriesWithOneLineChanged(from: string, to: string, kind: EditKind): Promise<string> {
  await cp(from, to, { recursive: true });
  const names = (await readdir(to)).filter((n) => n.endsWith('.patch')).sort().reverse();
  for (const name of names) {
    const lines = (await readFile(join(to, name), 'utf8')).split('\n');
    const index = lines.findIndex((l) => EDITS[kind].line.test(l));
    const line = lines[index];
    if (line === undefined) continue;
    lines[index] = EDITS[kind].edit(line);
    await writeFile(join(to, name), lines.join('\n'));
    return `${name} line ${index + 1}`;
  }
  throw new Error(`no patch in ${from} adds a ${kind} line to edit`);
}

// Run directly (npm run bench:build), not when scripts/bench.ts imports the measurements.
if (fileURLToPath(import.meta.url) === resolve(process.argv[1] ?? '')) {
  const { values } = parseArgs({ options: { patches: { type: 'string' }, other: { type: 'string' }, 'skip-cold': { type: 'boolean' }, 'cold-ccache': { type: 'boolean' } } });
  const patches = values.patches ?? DEFAULT_SERIES_DIR;
  const other = values.other ?? join(REPO_ROOT, 'patches', 'memmap-type', 'v6');
  const rows = await measureBuilds({ patches, other, skipCold: values['skip-cold'] ?? false, coldCcache: values['cold-ccache'] ?? false });
  console.log(`\nQEMU builder (${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)} at the end; series ${patches})`);
  for (const line of formatBuildRows(rows)) console.log(line);
  if (values['skip-cold']) console.log('  cold build: skipped (--skip-cold)');
}
