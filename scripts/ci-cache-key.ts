/**
 * Cache keys for the GitHub workflow, computed without building or fetching.
 *
 *   npx tsx scripts/ci-cache-key.ts [--source SPEC] --revision v5|v6|baseline|upstream-11.1
 *       The QEMU builder's key for one matrix revision: what the workflow keys
 *       actions/cache with, so each source × series is built once and every
 *       cell job restores exactly that build. Prints {"key", "path", "source",
 *       "buildArgs"} as JSON; under GitHub Actions also writes key=, path=
 *       (the cache entry directory), source= (the revision's own source, e.g.
 *       upstream-11.1's Debian binary, else --source) and build-args= (the
 *       `memmap-harness build` arguments for this revision) to $GITHUB_OUTPUT.
 *       A revision with its own source ignores --source: its key is the
 *       debian-bin unpacker's (package, exact version, suite, recipe).
 *       The key is ensureQemu's own (buildKey in harness/qemu-build/qemu.ts): source
 *       identity (a git source costs one `git ls-remote`; a Debian one its
 *       cached tarball), the series' hash, configure arguments, device config
 *       and builder version.
 *
 *   npx tsx scripts/ci-cache-key.ts --images
 *       The guest images' key: every kernel and firmware id at the exact Debian
 *       version its suite has today (one apt-get update of the private lists),
 *       and the content of the code and files that fetch and build them
 *       (harness/image/, images/). It changes when sid moves, never per run, so
 *       the cache holds one entry per set of inputs. Prints {"key", "inputs"};
 *       writes images-key= to $GITHUB_OUTPUT.
 *
 * Either way the key and what it rests on go to $GITHUB_STEP_SUMMARY.
 */
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readDeviceConfig } from '../harness/qemu-build/config.ts';
import { REPO_ROOT } from '../harness/util/paths.ts';
import { buildKey } from '../harness/qemu-build/qemu.ts';
import { cacheArea } from '../harness/util/cache-dirs.ts';
import { FIRMWARE_IDS, FIRMWARES } from '../harness/image/firmware.ts';
import { DEBIAN_KERNEL_IDS, KERNELS } from '../harness/image/kernel.ts';
import { MINIMAL_KERNEL_IDS, MINIMAL_KERNELS } from '../harness/image/minimal-kernel.ts';
import { resolveKernelPackages, resolveVersion } from '../harness/image/resolve.ts';
import { loadMatrix } from '../harness/matrix/load.ts';
import { resolveSource } from '../harness/source/fetch.ts';
import { loadSeries } from '../harness/source/series.ts';
import { DEFAULT_SOURCE_SPEC, parseDebianBinSpec, parseSourceSpec } from '../harness/source/spec.ts';
import { debianBinKey } from '../harness/qemu-build/debian-bin.ts';
import { requireVersion } from '../harness/host/deb.ts';
import { hashJson, sha256 } from '../harness/util/hash.ts';

/** What the guest images are made from: each id's exact package, and a hash of each file of the code that makes them. */
export interface ImageInputs {
  /** Kernel or firmware id → `package=version` (installed firmware: `installed`, it is not cached). */
  packages: Record<string, string>;
  /** Repository-relative path → sha256 of the file. */
  files: Record<string, string>;
}

/** Directories whose files fetch, unpack or build the guest images. */
export const IMAGE_CODE_DIRS = ['harness/image', 'images'];

/** The images cache key: a prefix and a hash of the inputs, nothing about the run. */
export function imagesKey(inputs: ImageInputs): string {
  return `images-${hashJson(inputs).slice(0, 32)}`;
}

/** The exact packages every kernel and firmware id stands for today. */
async function resolveImagePackages(): Promise<Record<string, string>> {
  const packages: Record<string, string> = {};
  for (const id of DEBIAN_KERNEL_IDS) {
    const { image } = await resolveKernelPackages(KERNELS[id].suite);
    packages[id] = `${image.name}=${image.version}`;
  }
  for (const id of MINIMAL_KERNEL_IDS) {
    const spec = MINIMAL_KERNELS[id];
    packages[id] = `${spec.source}=${await resolveVersion(spec.source, spec.suite)}`;
  }
  for (const id of FIRMWARE_IDS) {
    const spec = FIRMWARES[id];
    packages[id] = 'suite' in spec ? `${spec.package}=${await resolveVersion(spec.package, spec.suite)}` : 'installed';
  }
  return packages;
}

/** sha256 of every file under the given repository directories, by relative path. */
export async function hashFiles(dirs: readonly string[], root: string = REPO_ROOT): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const dir of dirs) {
    const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
    const paths = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
    for (const path of paths) files[relative(root, path)] = sha256(await readFile(path));
  }
  return files;
}

/** Where the workflow caches one revision's QEMU and how the qemu job makes it. */
export interface RevisionCacheEntry {
  key: string;
  /** The cache entry directory. */
  path: string;
  /** The QEMU source the revision is made from: its own (traits `source`, a debian-bin: binary) or the workflow's. */
  source: string;
  /** The `memmap-harness build` arguments after --source. */
  buildArgs: string;
  /** What the key rests on, for the step summary. */
  basis: string;
}

/**
 * The cache entry of a matrix revision. A revision with its own source
 * (upstream-11.1: Debian sid's binary) is keyed and stored as the debian-bin
 * unpacker does it, and never builds the workflow's source for nothing.
 */
export async function revisionCacheEntry(revision: string, sourceText: string | undefined): Promise<RevisionCacheEntry | undefined> {
  const info = (await loadMatrix()).revisions[revision];
  if (!info) return undefined;
  if (info.source !== undefined) {
    const spec = parseDebianBinSpec(info.source);
    const version = spec.version ?? (await requireVersion(spec.package, spec.suite));
    const key = debianBinKey(spec, version);
    return { key, path: join(cacheArea('qemu-bin'), key), source: info.source, buildArgs: '--no-patches', basis: `Debian binary \`${spec.package}=${version}\` (${spec.suite}), the revision's own source` };
  }
  const series = info.series === null ? null : await loadSeries(join(REPO_ROOT, info.series));
  const source = await resolveSource(parseSourceSpec(sourceText ?? DEFAULT_SOURCE_SPEC), { log: (line) => console.error(line) });
  const key = buildKey(source, series, await readDeviceConfig());
  return { key, path: join(cacheArea('qemu'), key), source: source.spec.text, buildArgs: info.series === null ? '--no-patches' : `--patches ${info.series}`, basis: `Source \`${source.spec.text}\` at \`${source.identity.version}\`` };
}

async function qemuKey(sourceText: string | undefined, revision: string): Promise<number> {
  const entry = await revisionCacheEntry(revision, sourceText);
  if (!entry) {
    console.error(`ci-cache-key: --revision must be one of ${Object.keys((await loadMatrix()).revisions).join(', ')}`);
    return 2;
  }
  const { key, path, source, buildArgs } = entry;
  console.log(JSON.stringify({ key, path, source, buildArgs }));
  await githubOutput(`key=${key}\npath=${path}\nsource=${source}\nbuild-args=${buildArgs}\n`);
  await stepSummary(`## QEMU ${revision}\n\n${entry.basis}; build arguments \`${buildArgs}\`.\n\nCache key \`qemu-${key}\`.\n`);
  return 0;
}

async function imagesKeyCommand(): Promise<number> {
  const inputs: ImageInputs = { packages: await resolveImagePackages(), files: await hashFiles(IMAGE_CODE_DIRS) };
  const key = imagesKey(inputs);
  console.log(JSON.stringify({ key, inputs }));
  await githubOutput(`images-key=${key}\n`);
  const rows = Object.entries(inputs.packages).map(([id, pkg]) => `| ${id} | \`${pkg}\` |`);
  await stepSummary(`## Guest images\n\nCache key \`${key}\` (these packages and ${Object.keys(inputs.files).length} files under ${IMAGE_CODE_DIRS.join(', ')}).\n\n| id | package |\n| --- | --- |\n${rows.join('\n')}\n`);
  return 0;
}

async function githubOutput(text: string): Promise<void> {
  if (process.env.GITHUB_OUTPUT) await appendFile(process.env.GITHUB_OUTPUT, text);
}

async function stepSummary(text: string): Promise<void> {
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, text);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { source: { type: 'string' }, revision: { type: 'string' }, images: { type: 'boolean', default: false } } });
  if (values.images && values.revision === undefined && values.source === undefined) return imagesKeyCommand();
  if (!values.images && values.revision !== undefined) return qemuKey(values.source, values.revision);
  console.error('usage: ci-cache-key.ts [--source SPEC] --revision REVISION | --images');
  return 2;
}

// Run as a script; imported (by the unit test) it only exports its helpers.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = await main();
