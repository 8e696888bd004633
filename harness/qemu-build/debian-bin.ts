import { access, chmod, constants, mkdir, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry, readEntry } from '../cache/entry.ts';
import { requireVersion } from '../host/deb.ts';
import { parseDebianBinSpec, type DebianBinSpec } from '../source/spec.ts';
import { lastMeaningfulLine, run, runOk } from '../util/subprocess.ts';
import { configuredMirror } from '../util/apt.ts';
import { HarnessError } from '../util/errors.ts';
import { hashJson, sha256File } from '../util/hash.ts';
import { phaseTimer } from '../util/phases.ts';
import { withInterruptsAsAbort } from '../host/interrupt.ts';
import { stderrReporter, type BuildReporter } from '../host/progress.ts';
import { parseQemuVersion } from './steps.ts';
import { scaledMs } from '../util/timeouts.ts';

/**
 * A QEMU under test taken from Debian's binary packages, for a QEMU whose source
 * cannot be had here (sid's 11.1). Its binary needs its own suite's libraries, so
 * the entry holds a root with the package and its dependencies unpacked, and a
 * wrapper that runs the binary through that root's loader and libraries.
 *
 * The root is made without a chroot: `debootstrap --download-only` resolves and
 * fetches the minbase set plus the package (verified against the suite's signed
 * Release), then each .deb is unpacked with `dpkg-deb -x`. No maintainer script
 * runs, nothing is mounted, the host's apt and dpkg state are untouched, and an
 * interrupted run leaves only plain files in a staging directory that is removed.
 */
export interface DebianBinManifest {
  kind: 'debian-bin';
  /** The spec as given. */
  spec: string;
  package: string;
  /** The exact Debian version unpacked (resolved when the spec named none). */
  version: string;
  suite: string;
  /** The package's own .deb as fetched: file name and sha256. */
  deb: { file: string; sha256: string };
  /** Every package unpacked into the root, name=version. */
  unpacked: string[];
  /** Absolute path of the wrapper `bin/qemu-system-x86_64`; what the harness runs. */
  binary: string;
  /** The unpacked root (absolute). */
  root: string;
  /** How reports and log file names call this QEMU, e.g. `debian-bin-11.1.3`. */
  label: string;
  /** -L directories inside the root (the wrapper passes them too). */
  firmwareDirs: string[];
  /** From `--version`, e.g. "11.1.3". */
  qemuVersion: string;
  cacheKey: string;
  /** debootstrap's output. */
  log: string;
  seconds: number;
  phaseSeconds: Record<string, number>;
  builtAt: string;
}

/** What ensureDebianBinQemu returns, shaped like a build. */
export interface DebianBinQemu {
  manifest: DebianBinManifest;
  /** True when the entry already existed: nothing was fetched. */
  cacheHit: boolean;
}

export interface DebianBinOptions {
  cacheEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  reporter?: BuildReporter;
}

/** Bump when the way the root is made changes: entries are then made again. */
const RECIPE_VERSION = 1;
const ARCH = 'amd64';
const BINARY = 'qemu-system-x86_64';
/** Packages besides the named one: QEMU's default BIOS (qemu-system-data, with the option ROMs, is a dependency). */
const EXTRA_PACKAGES = ['seabios'];
/** Relative to the root: SeaBIOS first, so its bios.bin wins over anything of the same name. */
const FIRMWARE_SUBDIRS = ['usr/share/seabios', 'usr/share/qemu'];
const LIBRARY_SUBDIRS = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'];
const LOADER_CANDIDATES = ['usr/lib64/ld-linux-x86-64.so.2', 'lib64/ld-linux-x86-64.so.2', 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'];
/** Not needed to run QEMU; about a quarter of the unpacked size. */
const PRUNED_SUBDIRS = ['usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info', 'usr/share/lintian'];
const TIMEOUTS_MS = { debootstrap: 20 * 60 * 1000, unpack: 2 * 60 * 1000, version: 30 * 1000 } as const;

/** The Debian binary package a debian-bin: spec names, unpacked into the cache with its wrapper (from the cache when done before). */
export async function ensureDebianBinQemu(specText: string, options: DebianBinOptions = {}): Promise<DebianBinQemu> {
  const spec = parseDebianBinSpec(specText);
  const reporter = options.reporter ?? stderrReporter();
  const version = spec.version ?? (await requireVersion(spec.package, spec.suite));
  const cacheKey = debianBinKey(spec, version);
  const entryDir = join(cacheArea('qemu-bin', options.cacheEnv), cacheKey);
  const cached = await usableEntry(entryDir);
  if (cached) return { manifest: cached, cacheHit: true };

  await requireSuiteHas(spec, version);
  reporter.step(`unpacking Debian's ${spec.package}=${version} (${spec.suite}) with its libraries → ${entryDir}`);
  const manifest = await withInterruptsAsAbort(options.signal, (signal) =>
    ensureEntry<DebianBinManifest>(entryDir, (staging) => makeEntry(staging, { spec, version, cacheKey, entryDir, signal, reporter }), { signal }),
  );
  return { manifest, cacheHit: false };
}

/** The cache key: package, exact version, suite (its libraries differ), architecture and recipe. */
export function debianBinKey(spec: DebianBinSpec, version: string): string {
  return hashJson({ kind: 'debian-bin', package: spec.package, version, suite: spec.suite, arch: ARCH, extra: EXTRA_PACKAGES, recipe: RECIPE_VERSION });
}

/** A file-name-safe label from QEMU's version: `debian-bin-11.1.3`. */
export function debianBinLabel(qemuVersion: string): string {
  return `debian-bin-${qemuVersion}`.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The wrapper: runs the root's QEMU through the root's loader and libraries, wherever the entry is. */
export function wrapperScript(loader: string, libraryDirs: readonly string[], what: string): string {
  const libraryPath = libraryDirs.map((d) => `$root/${d}`).join(':');
  const firmware = FIRMWARE_SUBDIRS.map((d) => `-L "$root/${d}"`).join(' ');
  return [
    '#!/bin/sh',
    `# memmap-harness: ${what}, run through the loader and libraries of its own root.`,
    '# Paths are relative to this script, so the entry works wherever the cache is.',
    'root="$(dirname "$(dirname "$(readlink -f "$0")")")/root"',
    'QEMU_MODULE_DIR="$root/usr/lib/x86_64-linux-gnu/qemu"',
    'export QEMU_MODULE_DIR',
    `exec "$root/${loader}" --library-path "${libraryPath}" "$root/usr/bin/${BINARY}" ${firmware} "$@"`,
    '',
  ].join('\n');
}

/** A complete entry whose wrapper is still runnable; one that lost files is removed so it is made again. */
async function usableEntry(entryDir: string): Promise<DebianBinManifest | undefined> {
  const manifest = await readEntry<DebianBinManifest>(entryDir);
  if (!manifest) return undefined;
  if (await isExecutable(manifest.binary)) return manifest;
  await rm(entryDir, { recursive: true, force: true });
  return undefined;
}

/** Fails before the long download when the suite offers another version than the one asked for. */
async function requireSuiteHas(spec: DebianBinSpec, version: string): Promise<void> {
  if (spec.version === undefined) return;
  const current = await requireVersion(spec.package, spec.suite);
  if (current !== version) {
    throw new HarnessError(
      `${spec.suite} has ${spec.package} ${current}, not ${version}`,
      `use debian-bin:${spec.package}=${current}@${spec.suite}, or leave out =VERSION for the suite's current one`,
    );
  }
}

interface EntryContext {
  spec: DebianBinSpec;
  version: string;
  cacheKey: string;
  entryDir: string;
  signal: AbortSignal;
  reporter: BuildReporter;
}

/** Fills `staging` with root/, bin/ and logs/ and returns the manifest (paths as they will be after the rename). */
async function makeEntry(staging: string, ctx: EntryContext): Promise<DebianBinManifest> {
  const started = Date.now();
  const { phases, timed } = phaseTimer();
  const download = join(staging, 'download');
  const root = join(staging, 'root');
  const log = join(staging, 'logs', 'debootstrap.log');
  await mkdir(join(staging, 'logs'), { recursive: true });

  const debs = await timed('download', () => downloadWithDebootstrap(ctx, download, log));
  const own = debs.find((d) => d.name === ctx.spec.package);
  if (!own) throw new HarnessError(`debootstrap did not fetch ${ctx.spec.package}`, `see the package name; ${ctx.spec.suite} must have it for ${ARCH}`);
  if (own.version !== ctx.version) throw new HarnessError(`${ctx.spec.suite} served ${ctx.spec.package} ${own.version} instead of ${ctx.version}`, 'the mirror changed meanwhile; run again');
  const debSha256 = await sha256File(own.path);

  ctx.reporter.step(`unpacking ${debs.length} packages (dpkg-deb -x, no maintainer scripts)`);
  await timed('unpack', () => unpackAll(debs, root, ctx.signal));
  await timed('prune', async () => {
    for (const dir of [...PRUNED_SUBDIRS.map((d) => join(root, d)), download]) await rm(dir, { recursive: true, force: true });
  });

  const loader = await findLoader(root);
  const libraryDirs = await existingDirs(root, LIBRARY_SUBDIRS);
  if (!(await isExecutable(join(root, 'usr', 'bin', BINARY)))) throw new HarnessError(`${ctx.spec.package} ${ctx.version} has no usr/bin/${BINARY}`, 'name the package that ships it (qemu-system-x86)');
  const wrapper = join(staging, 'bin', BINARY);
  await mkdir(join(staging, 'bin'));
  await writeFile(wrapper, wrapperScript(loader, libraryDirs, `Debian's ${ctx.spec.package} ${ctx.version} (${ctx.spec.suite})`));
  await chmod(wrapper, 0o755);
  const qemuVersion = await timed('version', () => wrapperVersion(wrapper, ctx.signal));
  const seconds = (Date.now() - started) / 1000;
  ctx.reporter.step(`QEMU ${qemuVersion} from ${ctx.spec.package} ${ctx.version} ready in ${Math.round(seconds)} s`);
  return {
    kind: 'debian-bin',
    spec: ctx.spec.text,
    package: ctx.spec.package,
    version: ctx.version,
    suite: ctx.spec.suite,
    deb: { file: own.file, sha256: debSha256 },
    unpacked: debs.map((d) => `${d.name}=${d.version}`),
    binary: join(ctx.entryDir, 'bin', BINARY),
    root: join(ctx.entryDir, 'root'),
    label: debianBinLabel(qemuVersion),
    firmwareDirs: FIRMWARE_SUBDIRS.map((d) => join(ctx.entryDir, 'root', d)),
    qemuVersion,
    cacheKey: ctx.cacheKey,
    log: join(ctx.entryDir, 'logs', 'debootstrap.log'),
    seconds,
    phaseSeconds: phases,
    builtAt: new Date().toISOString(),
  };
}

/** A .deb that debootstrap fetched: its name and version come from debootstrap's file name (NAME_VERSION_ARCH.deb, ':' as %3a). */
export interface FetchedDeb {
  name: string;
  version: string;
  file: string;
  path: string;
}

/** Parses NAME_VERSION_ARCH.deb; undefined for anything else. */
export function parseDebFileName(file: string): { name: string; version: string } | undefined {
  const match = /^([a-z0-9][a-z0-9.+-]*)_([^_]+)_([a-z0-9]+)\.deb$/.exec(file);
  if (!match?.[1] || !match[2]) return undefined;
  return { name: match[1], version: decodeURIComponent(match[2]) };
}

/**
 * `debootstrap --download-only`: resolves minbase plus the package's dependencies
 * for the suite and fetches them, checking each against the signed indices. It
 * runs under `timeout`, which puts it in a process group of its own and passes a
 * SIGTERM to that whole group: debootstrap's wget children die with it.
 */
async function downloadWithDebootstrap(ctx: EntryContext, target: string, logFile: string): Promise<FetchedDeb[]> {
  const mirror = await configuredMirror();
  const include = [ctx.spec.package, ...EXTRA_PACKAGES].join(',');
  ctx.reporter.step(`debootstrap --download-only --variant=minbase --include=${include} ${ctx.spec.suite} (about a minute)`);
  const seconds = Math.round(scaledMs(TIMEOUTS_MS.debootstrap) / 1000);
  const args = ['--kill-after=5s', `${seconds}s`, 'debootstrap', '--download-only', '--variant=minbase', `--arch=${ARCH}`, `--include=${include}`, ctx.spec.suite, target, mirror];
  const result = await run('timeout', args, { timeoutMs: TIMEOUTS_MS.debootstrap + 15_000, signal: ctx.signal });
  await writeFile(logFile, result.all);
  if (result.exitCode !== 0) {
    const why = result.exitCode === 124 ? `timed out after ${seconds} s` : lastMeaningfulLine(result.all) ?? `exit code ${result.exitCode}`;
    throw new HarnessError(`debootstrap for ${ctx.spec.package} (${ctx.spec.suite}) failed: ${why}`, 'check the Debian mirror in the apt sources and that debootstrap is installed (scripts/setup-debian.sh)');
  }
  const archives = join(target, 'var', 'cache', 'apt', 'archives');
  const debs: FetchedDeb[] = [];
  for (const file of (await readdir(archives)).sort()) {
    const parsed = parseDebFileName(file);
    if (parsed) debs.push({ ...parsed, file, path: join(archives, file) });
  }
  if (debs.length === 0) throw new HarnessError(`debootstrap left no packages in ${archives}`, 'see its log');
  return debs;
}

/** Unpacks every .deb into `root`; base-files first, since it makes the merged-/usr links (/lib → usr/lib) the others rely on. */
async function unpackAll(debs: readonly FetchedDeb[], root: string, signal: AbortSignal): Promise<void> {
  await mkdir(root, { recursive: true });
  const ordered = [...debs.filter((d) => d.name === 'base-files'), ...debs.filter((d) => d.name !== 'base-files')];
  for (const deb of ordered) {
    await runOk('dpkg-deb', ['-x', deb.path, root], { timeoutMs: TIMEOUTS_MS.unpack, signal, what: `dpkg-deb -x ${deb.file}` });
  }
}

/** The dynamic loader inside the root, relative to it. */
async function findLoader(root: string): Promise<string> {
  for (const candidate of LOADER_CANDIDATES) {
    if (await isExecutable(join(root, candidate))) return candidate;
  }
  throw new HarnessError(`no ld-linux-x86-64.so.2 in the unpacked root ${root}`, 'the suite must provide libc6 for amd64');
}

/** The candidates that exist in the root, without aliases (lib/… is usr/lib/… on a merged-/usr root). */
async function existingDirs(root: string, candidates: readonly string[]): Promise<string[]> {
  const found = new Map<string, string>();
  for (const dir of candidates) {
    const real = await realpath(join(root, dir)).catch(() => undefined);
    if (real !== undefined && !found.has(real)) found.set(real, dir);
  }
  if (found.size === 0) throw new HarnessError(`no library directory (${candidates.join(', ')}) in the unpacked root ${root}`);
  return [...found.values()];
}

async function wrapperVersion(wrapper: string, signal: AbortSignal): Promise<string> {
  const result = await runOk(wrapper, ['--version'], { timeoutMs: TIMEOUTS_MS.version, signal, what: `${wrapper} --version`, hint: 'the unpacked QEMU does not run through its own loader' });
  return parseQemuVersion(result.stdout);
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}
