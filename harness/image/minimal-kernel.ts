import { access, copyFile, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withInterruptsAsAbort } from '../host/interrupt.ts';
import { stderrReporter, type BuildReporter, type ProgressUnit } from '../host/progress.ts';
import { compilerEnv } from '../host/compiler-env.ts';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry, readEntry } from '../cache/entry.ts';
import { run, runOk, type RunOptions } from '../util/subprocess.ts';
import type { AptSuite } from '../util/apt.ts';
import { HarnessError } from '../util/errors.ts';
import { hashJson } from '../util/hash.ts';
import { fetchDeb, pinned, safeName, type PackageRef } from '../host/deb.ts';
import { applyFragment, checkKernelConfig, describeMismatches, parseKernelConfig, type KernelConfig } from './kernel-config.ts';
import type { CachedKernel } from './kernel-manifest.ts';
import { GUEST_MODULES } from './modules.ts';
import { resolveVersion } from './resolve.ts';
import { phaseTimer } from '../util/phases.ts';

/**
 * Guest kernels of our own: `make tinyconfig` of a Debian `linux-source-*`
 * package plus a fragment from images/kernel/, everything built in. Under TCG
 * they boot the guest program in about half the time Debian's kernels take and print
 * the E820/SRAT lines about 3 s sooner, because they run almost no initcalls.
 */
export const MINIMAL_KERNELS = {
  'minimal-6.1': { suite: 'bookworm', source: 'linux-source-6.1', fragment: 'minimal-6.1.config' },
} as const satisfies Record<string, { suite: AptSuite; source: string; fragment: string }>;
export type MinimalKernelId = keyof typeof MINIMAL_KERNELS;
export const MINIMAL_KERNEL_IDS = Object.keys(MINIMAL_KERNELS) as MinimalKernelId[];

/** Bump when the build procedure changes the result: every minimal kernel is then rebuilt. */
export const MINIMAL_BUILDER_VERSION = 1;

/** Where the fragments live. */
export const FRAGMENT_DIR = fileURLToPath(new URL('../../images/kernel/', import.meta.url));

/** Which guest module each config option provides (all built in: the fragment sets them =y). */
export const GUEST_MODULE_OPTIONS: Readonly<Record<(typeof GUEST_MODULES)[number], string>> = {
  dax: 'DAX',
  device_dax: 'DEV_DAX',
  dax_hmem: 'DEV_DAX_HMEM',
  kmem: 'DEV_DAX_KMEM',
  qemu_fw_cfg: 'FW_CFG_SYSFS',
};

const TIMEOUTS_MS = {
  unpack: 10 * 60 * 1000,
  config: 5 * 60 * 1000,
  make: 60 * 60 * 1000,
  release: 60 * 1000,
} as const;

/** A minimal kernel in the cache: a KernelManifest (no modules) plus how it was built. */
export interface MinimalKernelManifest extends CachedKernel<MinimalKernelId> {
  id: MinimalKernelId;
  minimal: {
    /** The fragment file and the hash that keyed the entry. */
    fragment: string;
    cacheKey: string;
    builderVersion: number;
    bzImageBytes: number;
    buildSeconds: number;
    phaseSeconds: Record<string, number>;
    /** The whole `make bzImage` output. */
    log: string;
    builtAt: string;
  };
}
type StoredMinimalKernel = Omit<MinimalKernelManifest, 'dir'>;

export interface MinimalKernelBuild {
  manifest: MinimalKernelManifest;
  /** True when the entry existed already: nothing was built. */
  cacheHit: boolean;
}

export interface EnsureMinimalKernelOptions {
  /** make -j; default the number of cores. */
  jobs?: number;
  /** ccache directory; default the harness cache's `ccache` area; null builds without ccache. */
  ccacheDir?: string | null;
  /** Aborting it stops the build, kills make and removes the temporary tree. */
  signal?: AbortSignal;
  /** Default: lines on stderr. */
  reporter?: BuildReporter;
}

/** The build failed its config check: options the guest program needs are not in .config as wanted. */
export class KernelConfigError extends HarnessError {}

/** `make bzImage` exited non-zero. */
export class MakeError extends HarnessError {}

export function isMinimalKernelId(id: string): id is MinimalKernelId {
  return Object.hasOwn(MINIMAL_KERNELS, id);
}

/**
 * The minimal kernel `id`: from the cache when built before, else built (about
 * 9 min of two cores cold; 5–6 min when ccache holds a build of a similar
 * config) and published atomically. Keyed by the source package's version,
 * the fragment's text and MINIMAL_BUILDER_VERSION.
 */
export async function ensureMinimalKernel(id: string = 'minimal-6.1', options: EnsureMinimalKernelOptions = {}): Promise<MinimalKernelBuild> {
  if (!isMinimalKernelId(id)) throw new HarnessError(`unknown minimal kernel '${id}'`, `use one of ${MINIMAL_KERNEL_IDS.join(', ')}`);
  const spec = MINIMAL_KERNELS[id];
  const reporter = options.reporter ?? stderrReporter(process.stderr, MAKE_UNIT);
  const fragmentPath = join(FRAGMENT_DIR, spec.fragment);
  const fragmentText = await readFile(fragmentPath, 'utf8');
  const fragment = parseKernelConfig(fragmentText);
  const source: PackageRef = { name: spec.source, version: await resolveVersion(spec.source, spec.suite) };
  const cacheKey = hashJson({ source, fragment: fragmentText, builderVersion: MINIMAL_BUILDER_VERSION });
  const dir = join(cacheArea('kernels'), safeName(`${id}_${source.version}-${cacheKey.slice(0, 16)}`));

  const cached = await usableEntry(dir);
  if (cached) return { manifest: cached, cacheHit: true };

  reporter.step(`building kernel ${id} from ${source.name} ${source.version} + ${spec.fragment} → ${dir}`);
  const ctx = { id, suite: spec.suite, source, fragment, fragmentPath, cacheKey, dir, reporter, options };
  const stored = await withInterruptsAsAbort(options.signal, (signal) =>
    ensureEntry<StoredMinimalKernel>(dir, (staging, tmp) => buildInto(staging, tmp, { ...ctx, signal }), { signal }),
  );
  return { manifest: absolutize(stored, dir), cacheHit: false };
}

/** A complete entry whose bzImage is still there; one that lost it is removed so it gets rebuilt. */
async function usableEntry(dir: string): Promise<MinimalKernelManifest | undefined> {
  const stored = await readEntry<StoredMinimalKernel>(dir);
  if (!stored) return undefined;
  const manifest = absolutize(stored, dir);
  if (await access(manifest.vmlinuz).then(() => true, () => false)) {
    // Which guest modules are built in is read from the kernel's own .config, so an entry
    // built before GUEST_MODULES grew (qemu_fw_cfg) answers for today's list.
    const config = await readFile(manifest.config, 'utf8').then(parseKernelConfig, () => undefined);
    return config ? { ...manifest, ...guestModulesOf(config) } : manifest;
  }
  await rm(dir, { recursive: true, force: true });
  return undefined;
}

interface BuildContext {
  id: MinimalKernelId;
  suite: AptSuite;
  source: PackageRef;
  fragment: KernelConfig;
  fragmentPath: string;
  cacheKey: string;
  dir: string;
  reporter: BuildReporter;
  options: EnsureMinimalKernelOptions;
  signal: AbortSignal;
}

/** Unpacks the source into `tmp`, configures, checks, builds, and fills `staging` with vmlinuz, config and logs. */
async function buildInto(staging: string, tmp: string, ctx: BuildContext): Promise<StoredMinimalKernel> {
  const { reporter, signal } = ctx;
  const started = Date.now();
  const { phases, timed } = phaseTimer();
  await mkdir(join(staging, 'logs'));
  const log = join('logs', 'build.log');

  reporter.step(`unpacking ${ctx.source.name} ${ctx.source.version}`);
  const tree = await timed('unpack', () => unpackSource(ctx.source, tmp, signal));
  reporter.step('make tinyconfig + fragment + olddefconfig');
  const config = await timed('config', () => configureChecked(tree, ctx));
  const env = await compilerEnv(tree, ctx.options.ccacheDir === undefined ? cacheArea('ccache') : ctx.options.ccacheDir);
  const jobs = ctx.options.jobs ?? availableParallelism();
  reporter.step(`make -j${jobs} bzImage (${env.CCACHE_DIR ? `ccache ${env.CCACHE_DIR}` : 'no ccache'})`);
  await timed('make', () => makeBzImage(tree, { jobs, env, signal, reporter, logFile: join(staging, log), id: ctx.id }));
  const release = (await runOk('make', ['-s', 'kernelrelease'], { cwd: tree, timeoutMs: TIMEOUTS_MS.release, signal, what: 'make kernelrelease' })).stdout.trim();

  await copyFile(join(tree, 'arch', 'x86', 'boot', 'bzImage'), join(staging, 'vmlinuz'));
  await copyFile(join(tree, '.config'), join(staging, 'config'));
  const bzImageBytes = (await stat(join(staging, 'vmlinuz'))).size;
  const buildSeconds = (Date.now() - started) / 1000;
  reporter.step(`built kernel ${ctx.id} (${release}, bzImage ${(bzImageBytes / 1e6).toFixed(1)} MB) in ${Math.round(buildSeconds)} s`);
  return {
    id: ctx.id,
    suite: ctx.suite,
    release,
    image: ctx.source,
    // The source package as downloaded (a cache hit here), pinned by its sha256.
    packages: [pinned(await fetchDeb(ctx.source))],
    vmlinuz: 'vmlinuz',
    config: 'config',
    modules: [],
    ...guestModulesOf(config),
    minimal: {
      fragment: ctx.fragmentPath,
      cacheKey: ctx.cacheKey,
      builderVersion: MINIMAL_BUILDER_VERSION,
      bzImageBytes,
      buildSeconds,
      phaseSeconds: phases,
      log,
      builtAt: new Date().toISOString(),
    },
  };
}

/** dpkg-deb -x the source package, then untar the tarball inside it; returns the kernel tree. */
async function unpackSource(source: PackageRef, tmp: string, signal: AbortSignal): Promise<string> {
  const deb = await fetchDeb(source);
  const debDir = join(tmp, 'deb');
  const opts: RunOptions = { timeoutMs: TIMEOUTS_MS.unpack, signal };
  await runOk('dpkg-deb', ['-x', deb.path, debDir], { ...opts, what: `dpkg-deb -x ${deb.path}` });
  const srcDir = join(debDir, 'usr', 'src');
  const tarball = (await readdir(srcDir)).find((f) => /^linux-source-.*\.tar\.(xz|gz|bz2)$/.test(f));
  if (!tarball) throw new HarnessError(`${source.name} ${source.version} holds no linux-source tarball in /usr/src`, 'the package layout changed; update harness/image/minimal-kernel.ts');
  const treeRoot = join(tmp, 'src');
  await mkdir(treeRoot);
  await runOk('tar', ['-xaf', join(srcDir, tarball), '-C', treeRoot], { ...opts, what: `tar -x ${tarball}` });
  await rm(debDir, { recursive: true, force: true });
  const [top, ...more] = await readdir(treeRoot);
  if (!top || more.length > 0) throw new HarnessError(`${tarball} does not unpack into one directory`, 'the package layout changed; update harness/image/minimal-kernel.ts');
  return join(treeRoot, top);
}

/**
 * tinyconfig, the fragment on top, olddefconfig; returns the resulting .config
 * after checking that every option of the fragment kept its value
 * (olddefconfig silently drops an option whose dependencies are off).
 */
async function configureChecked(tree: string, ctx: BuildContext): Promise<KernelConfig> {
  const opts = { cwd: tree, timeoutMs: TIMEOUTS_MS.config, signal: ctx.signal };
  await runOk('make', ['tinyconfig'], { ...opts, what: 'make tinyconfig' });
  const dotConfig = join(tree, '.config');
  await writeFile(dotConfig, applyFragment(await readFile(dotConfig, 'utf8'), ctx.fragment));
  await runOk('make', ['olddefconfig'], { ...opts, what: 'make olddefconfig' });
  const config = parseKernelConfig(await readFile(dotConfig, 'utf8'));
  const mismatches = checkKernelConfig(config, ctx.fragment);
  if (mismatches.length === 0) return config;
  const kept = await keepForDiagnosis(dotConfig, ctx.id, 'config');
  throw new KernelConfigError(
    `kernel ${ctx.id}: ${mismatches.length} option(s) the probe needs did not make it into .config: ${describeMismatches(mismatches)}`,
    `enable their dependencies in ${ctx.fragmentPath}${kept ? ` (the .config is in ${kept})` : ''}`,
  );
}

/** About how many kbuild steps (`  CC foo.o` lines) a bzImage of the 6.1 fragment takes; only for the percentage. */
export const EXPECTED_MAKE_STEPS = 1550;

/** The kernel's progress counts kbuild steps against an estimate. */
export const MAKE_UNIT: ProgressUnit = { tool: 'make', approximate: true };

interface MakeOptions {
  jobs: number;
  env: Record<string, string>;
  signal: AbortSignal;
  reporter: BuildReporter;
  /** In the staging directory, which goes with a failure: a failed log is copied out first. */
  logFile: string;
  id: string;
}

/** `make -jN bzImage`, every line to logFile, a progress line about every 10 % or 30 s. */
async function makeBzImage(tree: string, options: MakeOptions): Promise<void> {
  const out = createWriteStream(options.logFile, { flags: 'a' });
  const progress = makeProgress(options.reporter, EXPECTED_MAKE_STEPS);
  try {
    const result = await run('make', [`-j${options.jobs}`, 'bzImage'], {
      cwd: tree,
      env: options.env,
      timeoutMs: TIMEOUTS_MS.make,
      signal: options.signal,
      onLine: (line) => {
        out.write(`${line}\n`);
        progress(line);
      },
    });
    if (result.exitCode === 0) return;
    await new Promise<void>((resolve) => out.end(resolve));
    const kept = await keepForDiagnosis(options.logFile, options.id, 'build.log');
    throw new MakeError(`make bzImage failed (exit ${result.exitCode}): ${makeErrorLine(result.all)}`, kept ? `see ${kept}` : undefined);
  } finally {
    options.reporter.endProgress();
    if (!out.writableEnded) await new Promise<void>((resolve) => out.end(resolve));
  }
}

/** A line handler that counts kbuild steps and hands each count to the reporter, which decides what to print. */
export function makeProgress(reporter: BuildReporter, expected: number): (line: string) => void {
  let steps = 0;
  return (line) => {
    if (!parseKbuildStep(line)) return;
    steps += 1;
    reporter.progress(steps, expected);
  };
}

/** kbuild's quiet output: `  CC      mm/page_alloc.o` → {tool: 'CC', target: 'mm/page_alloc.o'}. */
export function parseKbuildStep(line: string): { tool: string; target: string } | undefined {
  const match = /^ {2}([A-Z][A-Z0-9_-]*(?: \[[A-Z]\])?)\s+(\S.*)$/.exec(line);
  return match?.[1] && match[2] ? { tool: match[1], target: match[2].trim() } : undefined;
}

function makeErrorLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /\berror:/.test(l)) ?? lines.find((l) => /^make(\[\d+\])?: \*\*\*/.test(l)) ?? lines.pop() ?? 'no output';
}

/** Copies a file of a failed build to cacheArea('logs')/<id>-<time>.<suffix>; undefined when that fails too. */
async function keepForDiagnosis(file: string, id: string, suffix: string): Promise<string | undefined> {
  const dest = join(cacheArea('logs'), `${id}-${new Date().toISOString().replace(/[:.]/g, '-')}.${suffix}`);
  return mkdir(cacheArea('logs'), { recursive: true })
    .then(() => copyFile(file, dest))
    .then(() => dest, () => undefined);
}

/** Every guest module is built in when its option is `y`; otherwise absent (a minimal kernel has no module files). */
function guestModulesOf(config: KernelConfig): { builtin: string[]; absent: string[] } {
  const builtin = GUEST_MODULES.filter((m) => config.get(GUEST_MODULE_OPTIONS[m]) === 'y');
  return { builtin, absent: GUEST_MODULES.filter((m) => !builtin.includes(m)) };
}

function absolutize(stored: StoredMinimalKernel, dir: string): MinimalKernelManifest {
  return {
    ...stored,
    vmlinuz: join(dir, stored.vmlinuz),
    config: join(dir, stored.config),
    minimal: { ...stored.minimal, log: join(dir, stored.minimal.log) },
    dir,
  };
}
