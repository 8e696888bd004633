/**
 * Measures the QEMU builder (not a test): a cold build, a cache hit, and the
 * rebuild after a one-line comment change in the series.
 *
 *   npx tsx scripts/bench-build.ts [--patches DIR] [--cold-ccache]
 *
 * "Cold" uses a throwaway XDG_CACHE_HOME, so nothing of the harness cache is
 * reused except the downloaded Debian source (linked in: the network is not what
 * is measured). ccache is the shared one (warm) unless --cold-ccache, which
 * gives the build an empty one too. The throwaway cache is deleted at the end.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { cacheArea, cacheRoot } from '../harness/util/cache-dirs.ts';
import { DEFAULT_SERIES_DIR } from '../harness/qemu-build/config.ts';
import { ensureQemu, type QemuBuild } from '../harness/qemu-build/qemu.ts';
import { silentReporter, stderrReporter } from '../harness/qemu-build/progress.ts';

const { values } = parseArgs({ options: { patches: { type: 'string' }, 'cold-ccache': { type: 'boolean' } } });
const seriesDir = values.patches ?? DEFAULT_SERIES_DIR;
const throwaway = await mkdtemp(join(tmpdir(), 'memmap-harness-bench-'));
const cacheEnv = { ...process.env, XDG_CACHE_HOME: throwaway };
const ccacheDir = values['cold-ccache'] ? join(throwaway, 'ccache') : cacheArea('ccache');

try {
  await mkdir(cacheRoot(cacheEnv), { recursive: true });
  await symlink(cacheArea('downloads'), cacheArea('downloads', cacheEnv));
  const rows: [string, number, string][] = [];

  const cold = await timed(() => ensureQemu({ patches: seriesDir, cacheEnv, ccacheDir, reporter: stderrReporter() }));
  rows.push(['cold build', cold.seconds, `${describe(cold.value)}; ${await ccacheLine(cold.statsBefore, ccacheDir)}`]);

  const hit = await timed(() => ensureQemu({ patches: seriesDir, cacheEnv, ccacheDir, reporter: silentReporter }));
  rows.push(['cache hit', hit.seconds, `cacheHit=${hit.value.cacheHit}`]);

  const edited = join(throwaway, 'series-edited');
  const changed = await copySeriesWithOneCommentChanged(seriesDir, edited);
  const rebuild = await timed(() => ensureQemu({ patches: edited, cacheEnv, ccacheDir, reporter: stderrReporter() }));
  rows.push(['rebuild, 1 comment line changed', rebuild.seconds, `${changed}; ${describe(rebuild.value)}; ${await ccacheLine(rebuild.statsBefore, ccacheDir)}`]);

  console.log(`\nQEMU builder timings (${values['cold-ccache'] ? 'empty ccache' : `shared ccache ${ccacheDir}`}, series ${seriesDir})`);
  for (const [what, seconds, detail] of rows) console.log(`  ${what.padEnd(32)} ${seconds.toFixed(1).padStart(7)} s   ${detail}`);
} finally {
  await rm(throwaway, { recursive: true, force: true });
}

interface Timed<T> {
  value: T;
  seconds: number;
  statsBefore: CcacheStats | undefined;
}

async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const statsBefore = await ccacheStats(ccacheDir);
  const started = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9, statsBefore };
}

function describe(build: QemuBuild): string {
  const phases = Object.entries(build.manifest.phaseSeconds).map(([k, v]) => `${k} ${v.toFixed(0)}s`).join(', ');
  return build.cacheHit ? 'cache hit' : phases;
}

type CcacheStats = Record<string, number>;

/** `ccache --print-stats` counters, or undefined without ccache. */
async function ccacheStats(dir: string): Promise<CcacheStats | undefined> {
  const result = await execa('ccache', ['--print-stats'], { env: { CCACHE_DIR: dir }, reject: false, timeout: 30_000 }).catch(() => undefined);
  if (!result || result.exitCode !== 0) return undefined;
  return Object.fromEntries(result.stdout.split('\n').map((l) => l.split('\t')).filter((p) => p.length === 2).map(([k, v]) => [k, Number(v)]));
}

async function ccacheLine(before: CcacheStats | undefined, dir: string): Promise<string> {
  const after = await ccacheStats(dir);
  if (!before || !after) return 'ccache: n/a';
  const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  const hits = delta('direct_cache_hit') + delta('preprocessed_cache_hit');
  return `ccache ${hits} hits / ${delta('cache_miss')} misses`;
}

/**
 * Copies the series and edits one added comment line, in the last patch that
 * adds one (a later patch that only touches other files cannot depend on it).
 */
async function copySeriesWithOneCommentChanged(from: string, to: string): Promise<string> {
  await cp(from, to, { recursive: true });
  const names = (await readdir(to)).filter((n) => n.endsWith('.patch')).sort().reverse();
  for (const name of names) {
    const lines = (await readFile(join(to, name), 'utf8')).split('\n');
    const index = lines.findIndex((l) => /^\+.*\/\*.*\*\/\s*$/.test(l) || /^\+\s+\*\s+\S/.test(l) || /^\+\s*\/\/\s*\S/.test(l));
    const line = lines[index];
    if (line === undefined) continue;
    lines[index] = line.includes('*/') ? line.replace(/\s*\*\/\s*$/, ' (bench) */') : `${line} (bench)`;
    await writeFile(join(to, name), lines.join('\n'));
    return `${name} line ${index + 1}`;
  }
  throw new Error(`no patch in ${from} adds a C comment line`);
}
