import { access, constants, copyFile, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry, readEntry } from '../cache/entry.ts';
import { applySeries, type AppliedPatch } from '../source/apply.ts';
import { ensurePristineTree, identityKey, resolveSource, type SourceIdentity } from '../source/fetch.ts';
import { buildIsolation } from './no-network.ts';
import { copySome, treeKey, withBuildTree, type LockedTree } from './tree.ts';
import { checkBaseCommit, type BaseCheck } from '../source/git.ts';
import { loadSeries, type Series } from '../source/series.ts';
import { DEFAULT_SOURCE_SPEC, parseSourceSpec } from '../source/spec.ts';
import { BUILDER_VERSION, CONFIGURE_ARGS, DEFAULT_SERIES_DIR, NINJA_TARGET, readDeviceConfig } from './config.ts';
import { FIRMWARE_DIRS } from '../util/paths.ts';
import { withInterruptsAsAbort } from '../host/interrupt.ts';
import { qemuCacheKey } from './key.ts';
import { writeMissingEdk2Placeholders } from './placeholders.ts';
import { stderrReporter, type BuildReporter } from '../host/progress.ts';
import { BuildStepError, configure, ninja, qemuVersionOf, writeDeviceConfig } from './steps.ts';
import { compilerEnv } from '../host/compiler-env.ts';
import { phaseTimer } from '../util/phases.ts';

/** entry.json of a QEMU build in cacheArea('qemu')/<cacheKey>/. */
export interface QemuManifest {
  /** Absolute path of qemu-system-x86_64 in the published entry. */
  binary: string;
  source: SourceIdentity & { upstreamVersion?: string };
  patched: boolean;
  series: { name: string; sha256: string }[];
  seriesHash: string | null;
  /** The directory or mbox the series was read from (informational; the hash is what counts). */
  seriesPath: string | null;
  /**
   * How each patch went in: exactly, with hunks moved (offset) or with context
   * ignored (fuzz), naming each such hunk. Absent in entries built before this was recorded.
   */
  applied?: AppliedPatch[];
  /** The series' base-commit checked against the source; null when the series names none (or for the baseline). Recomputed on every call. */
  base: BaseCheck | null;
  configureArgs: string[];
  cacheKey: string;
  /** Pass each with -L: the binary carries no firmware. */
  firmwareDirs: string[];
  /** From `qemu-system-x86_64 --version`. */
  qemuVersion: string;
  /** pc-bios/*.bz2 files that were missing and got an empty placeholder. */
  placeholders: string[];
  logs: { configure: string; build: string };
  buildSeconds: number;
  phaseSeconds: Record<string, number>;
  builtAt: string;
}

export interface QemuBuild {
  manifest: QemuManifest;
  /** True when the entry already existed: nothing was built. */
  cacheHit: boolean;
}

export interface EnsureQemuOptions {
  /** Source spec; default DEFAULT_SOURCE_SPEC (Debian's qemu 10.2.2). */
  source?: string;
  /** Series directory or mbox; undefined = the default v5 series, null = the unpatched baseline. */
  patches?: string | null;
  /** Environment that locates the harness cache (XDG_CACHE_HOME); default process.env. */
  cacheEnv?: NodeJS.ProcessEnv;
  /** ccache directory; default the harness cache's `ccache` area; null builds without ccache. */
  ccacheDir?: string | null;
  /** ninja -j; default ninja's own choice. */
  jobs?: number;
  /** Aborting it stops the build, kills its children and removes the staging directory. */
  signal?: AbortSignal;
  /** Let configure and ninja reach the network; default MEMMAP_HARNESS_ALLOW_NETWORK (else they run in a namespace without one). */
  allowNetwork?: boolean;
  /** Default: lines on stderr. */
  reporter?: BuildReporter;
}

/** The series a build applies: an explicit path, the default v5 directory, or none. */
export function seriesPathFor(patches: string | null | undefined): string | null {
  return patches === undefined ? DEFAULT_SERIES_DIR : patches;
}

/** The cache key of a build: source identity, series, configure arguments, device config and builder version. */
export function buildKey(source: Awaited<ReturnType<typeof resolveSource>>, series: Series | null, deviceConfig: string): string {
  return qemuCacheKey({
    source: identityKey(source.identity),
    seriesHash: series?.hash ?? null,
    configureArgs: CONFIGURE_ARGS,
    deviceConfig,
    builderVersion: BUILDER_VERSION,
  });
}

/**
 * The QEMU binary for (source, series): from the cache when built before (costs a
 * manifest read), else built and published atomically. Two processes wanting
 * one key at once: one builds, the other waits for its lock and returns its manifest.
 */
export async function ensureQemu(options: EnsureQemuOptions = {}): Promise<QemuBuild> {
  const reporter = options.reporter ?? stderrReporter();
  const spec = parseSourceSpec(options.source ?? DEFAULT_SOURCE_SPEC);
  const seriesPath = seriesPathFor(options.patches);
  const series = seriesPath === null ? null : await loadSeries(seriesPath);
  const source = await resolveSource(spec, { cacheEnv: options.cacheEnv, signal: options.signal, log: (l) => reporter.step(l) });
  const deviceConfig = await readDeviceConfig();
  const cacheKey = buildKey(source, series, deviceConfig);
  const entryDir = join(cacheArea('qemu', options.cacheEnv), cacheKey);

  // Not part of the key (a cover letter's trailer is not in the series hash), so computed afresh even for a cached build.
  const base = series?.baseCommit ? checkBaseCommit(series.baseCommit, source.identity) : null;
  const cached = await usableEntry(entryDir);
  if (cached) return { manifest: { ...cached, base }, cacheHit: true };

  const label = series ? `${source.identity.spec} + ${series.patches.length} patch(es) from ${series.path}` : `${source.identity.spec} (baseline, no patches)`;
  // Said by the producer only: a second harness that waits for this key's lock and reuses the entry builds nothing.
  const manifest = await withInterruptsAsAbort(options.signal, (signal) =>
    ensureEntry<QemuManifest>(entryDir, (staging) => {
      reporter.step(`building QEMU for ${label} → ${entryDir}`);
      if (base) reporter.step(base.summary);
      return buildInto(staging, { entryDir, cacheKey, source, series, base, deviceConfig, signal, reporter, options });
    }, { signal }),
  );
  // A racing process may have published first: its record of the patches stands, the base check is ours.
  return { manifest: { ...manifest, base }, cacheHit: false };
}

/** A complete entry whose binary is still there; an entry that lost its binary is removed so it gets rebuilt. */
async function usableEntry(entryDir: string): Promise<QemuManifest | undefined> {
  const manifest = await readEntry<QemuManifest>(entryDir);
  if (!manifest) return undefined;
  const runnable = await access(manifest.binary, constants.X_OK).then(() => true, () => false);
  if (runnable) return manifest;
  await rm(entryDir, { recursive: true, force: true });
  return undefined;
}

interface BuildContext {
  entryDir: string;
  cacheKey: string;
  source: Awaited<ReturnType<typeof resolveSource>>;
  series: Series | null;
  base: BaseCheck | null;
  deviceConfig: string;
  signal: AbortSignal;
  reporter: BuildReporter;
  options: EnsureQemuOptions;
}

/**
 * Fills `staging` with bin/ and logs/ and returns the manifest. The series is
 * applied to a throwaway copy of the source; the persistent build tree
 * (./tree.ts) then takes over only the files that differ, and ninja rebuilds
 * what depends on them.
 */
async function buildInto(staging: string, ctx: BuildContext): Promise<QemuManifest> {
  const { reporter, signal } = ctx;
  const started = Date.now();
  const { phases, timed } = phaseTimer();
  const wanted = join(staging, 'src');
  const logs = join(staging, 'logs');
  await mkdir(logs, { recursive: true });

  const pristine = await timed('fetch', () => ensurePristineTree(ctx.source, { cacheEnv: ctx.options.cacheEnv, signal, log: (l) => reporter.step(l) }));
  // The series goes onto a sparse copy of just the files it names; the persistent tree takes them from there.
  const paths = ctx.series ? ctx.series.paths : [];
  await timed('copy', () => copySome(pristine.dir, wanted, paths));
  let applied: AppliedPatch[] = [];
  if (ctx.series) {
    const series = ctx.series;
    const sourceLabel = `${ctx.source.identity.spec}${pristine.upstreamVersion ? ` (${pristine.upstreamVersion})` : ''}`;
    applied = await timed('apply', () => applySeries(series, wanted, { sourceLabel, signal, log: (l) => reporter.step(l) }));
  }

  const ccacheDir = ctx.options.ccacheDir === undefined ? cacheArea('ccache', ctx.options.cacheEnv) : ctx.options.ccacheDir;
  const logFiles = { configure: join(logs, 'configure.log'), build: join(logs, 'build.log') };
  const key = treeKey({ source: identityKey(ctx.source.identity), configureArgs: CONFIGURE_ARGS, deviceConfig: ctx.deviceConfig, builderVersion: BUILDER_VERSION });
  const binary = join(staging, 'bin', NINJA_TARGET);
  const syncStarted = Date.now();
  let placeholders: string[] = [];
  try {
    await withBuildTree(key, { pristine, patched: wanted, seriesPaths: paths }, { cacheEnv: ctx.options.cacheEnv, signal, log: (l) => reporter.step(l) }, async (tree) => {
      phases.sync = (Date.now() - syncStarted) / 1000;
      const env = await compilerEnv(tree.src, ccacheDir);
      const { isolate, note } = await buildIsolation(ctx.options.allowNetwork);
      reporter.step(note);
      const stepOptions = { tree: tree.src, env, signal, reporter, isolate };
      // Not from the source, so not kept by the sync: written (when missing) on every build.
      placeholders = await writeMissingEdk2Placeholders(tree.src);
      await writeDeviceConfig(tree.src, ctx.deviceConfig);
      if (tree.configured) {
        await writeFile(logFiles.configure, reusedTreeNote(tree));
        reporter.step(`build tree ${tree.src}: ${tree.rewritten.length} file(s) rewritten`);
      } else {
        reporter.step(`configuring (${env.CCACHE_DIR ? `ccache ${env.CCACHE_DIR}` : 'no ccache'})`);
        await timed('configure', () => configure(CONFIGURE_ARGS, { ...stepOptions, logFile: logFiles.configure }));
        await tree.markConfigured();
      }
      reporter.step(`ninja ${NINJA_TARGET}`);
      const built = await timed('ninja', () => ninja({ ...stepOptions, logFile: logFiles.build, jobs: ctx.options.jobs }));
      await mkdir(join(staging, 'bin'));
      await copyFile(built, binary);
    });
  } catch (error) {
    const kept = await keepFailureLogs(logs, ctx);
    if (kept && error instanceof BuildStepError) throw new BuildStepError(error.message, join(kept, basename(error.logFile)));
    throw error;
  }

  const qemuVersion = await qemuVersionOf(binary, signal);
  await timed('cleanup', () => rm(wanted, { recursive: true, force: true }));
  const buildSeconds = (Date.now() - started) / 1000;
  reporter.step(`built QEMU ${qemuVersion} in ${Math.round(buildSeconds)} s`);
  return {
    binary: join(ctx.entryDir, 'bin', NINJA_TARGET),
    source: { ...ctx.source.identity, ...(pristine.upstreamVersion ? { upstreamVersion: pristine.upstreamVersion } : {}) },
    patched: ctx.series !== null,
    series: ctx.series?.patches.map((p) => ({ name: p.name, sha256: p.sha256 })) ?? [],
    seriesHash: ctx.series?.hash ?? null,
    seriesPath: ctx.series?.path ?? null,
    applied,
    base: ctx.base,
    configureArgs: [...CONFIGURE_ARGS],
    cacheKey: ctx.cacheKey,
    firmwareDirs: [...FIRMWARE_DIRS],
    qemuVersion,
    placeholders,
    logs: { configure: join(ctx.entryDir, 'logs', 'configure.log'), build: join(ctx.entryDir, 'logs', 'build.log') },
    buildSeconds,
    phaseSeconds: phases,
    builtAt: new Date().toISOString(),
  };
}

/** configure.log of a build that reused a configured tree: where, and which files the series change rewrote. */
function reusedTreeNote(tree: LockedTree): string {
  const files = tree.rewritten === 'all' ? ['(all: a new tree)'] : tree.rewritten;
  return `configure not run: reused the configured build tree ${tree.src}\nfiles rewritten for this series (${files.length}):\n${files.map((f) => `  ${f}`).join('\n')}\n`;
}

/** The staging dir is removed on failure; its logs are copied to cacheArea('logs')/<key>-<time>/ first (named in the error hint). */
async function keepFailureLogs(logs: string, ctx: BuildContext): Promise<string | undefined> {
  if (ctx.signal.aborted) return undefined;
  const dest = join(cacheArea('logs', ctx.options.cacheEnv), `${ctx.cacheKey.slice(0, 16)}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  return cp(logs, dest, { recursive: true }).then(() => dest, () => undefined);
}
