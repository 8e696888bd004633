import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { packageField, refreshLists, type AptSuite } from '../util/apt.ts';
import { HarnessError } from '../util/errors.ts';
import { requireVersion, type PackageRef } from '../host/deb.ts';

/** The packages that make up one Debian kernel at an exact version. */
export interface KernelPackages {
  /** The `linux-image-<release>` package the suite's `linux-image-amd64` depends on. */
  image: PackageRef;
  /** Every package to extract: the image itself, or (sid's split) its binary, modules and base parts. */
  parts: PackageRef[];
  /** `uname -r` of the kernel, e.g. `6.1.0-50-amd64`. */
  release: string;
}

const META = 'linux-image-amd64';

/**
 * Resolves the suite's current kernel through the metapackage's Depends.
 * Remembered until the apt lists are refreshed (see rememberUntilRefresh).
 */
export function resolveKernelPackages(suite: AptSuite): Promise<KernelPackages> {
  return rememberUntilRefresh(`kernel-${suite}`, () => resolveFromApt(suite));
}

/** The version of `name` in `suite`, remembered like resolveKernelPackages. */
export function resolveVersion(name: string, suite: AptSuite): Promise<string> {
  return rememberUntilRefresh(`version-${name}-${suite}`, () => requireVersion(name, suite));
}

/**
 * Runs `compute` once per refresh of the private apt lists and remembers its
 * answer on disk: apt-cache costs seconds per call, and its answers cannot
 * change until the lists do.
 */
async function rememberUntilRefresh<T>(name: string, compute: () => Promise<T>): Promise<T> {
  await refreshLists();
  const stamp = await readFile(join(cacheArea('apt'), 'lists', 'updated'), 'utf8').catch(() => '');
  const memo = join(cacheArea('resolved'), `${name}.json`);
  const saved = await readFile(memo, 'utf8').then((t) => JSON.parse(t) as { stamp: string; value: T }, () => undefined);
  if (saved && stamp !== '' && saved.stamp === stamp) return saved.value;
  const value = await compute();
  await mkdir(cacheArea('resolved'), { recursive: true });
  // Written aside and renamed: a concurrent reader never sees half a file.
  await writeFileAtomic(memo, `${JSON.stringify({ stamp, value }, null, 2)}\n`);
  return value;
}

async function resolveFromApt(suite: AptSuite): Promise<KernelPackages> {
  const metaVersion = await requireVersion(META, suite);
  const image = pickDependency(await packageField(`${META}=${metaVersion}`, 'Depends'), /^linux-image-(.+)$/);
  if (!image) throw new HarnessError(`${META} ${metaVersion} in ${suite} depends on no linux-image-* package`);
  const release = image.name.slice('linux-image-'.length);
  const depends = (await packageField(`${image.name}=${image.version}`, 'Depends')) ?? '';
  // sid splits the kernel: the image package only depends on these parts.
  const split = ['binary', 'modules', 'base']
    .map((part) => pickDependency(depends, new RegExp(`^linux-${part}-${escapeRegExp(release)}$`)))
    .filter((ref): ref is PackageRef => ref !== undefined);
  return { image, parts: split.length > 0 ? split : [image], release };
}

/** The first `name (= version)` alternative in a Depends field whose name matches. */
export function pickDependency(depends: string | undefined, name: RegExp): PackageRef | undefined {
  for (const clause of (depends ?? '').split(',')) {
    for (const alternative of clause.split('|')) {
      const match = /^\s*(\S+)\s*\(=\s*([^)\s]+)\)\s*$/.exec(alternative);
      if (match?.[1] && match[2] && name.test(match[1])) return { name: match[1], version: match[2] };
    }
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
