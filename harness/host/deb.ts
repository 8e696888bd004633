import { execa } from 'execa';
import { join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry } from '../cache/entry.ts';
import { downloadDeb, type AptSuite, candidateVersion } from '../util/apt.ts';
import { HarnessError } from '../util/errors.ts';
import { toolPath } from '../util/host-tools.ts';
import { sha256File, sha256Mismatch } from '../util/hash.ts';
import { scaledMs } from '../util/timeouts.ts';

/** A Debian binary package at an exact version, as recorded in manifests. */
export interface PackageRef {
  name: string;
  version: string;
  /** sha256 of the .deb as downloaded (absent in entries made before pinning was recorded). */
  sha256?: string;
}

/** A downloaded .deb kept in the cache, so re-extracting never downloads again. */
export interface DebFile extends PackageRef {
  path: string;
  sha256: string;
}

/** The reference with the .deb's sha256, as manifests and reports record it. */
export function pinned(deb: DebFile): PackageRef {
  return { name: deb.name, version: deb.version, sha256: deb.sha256 };
}

const DPKG_TIMEOUT_MS = 5 * 60 * 1000;

/** The version `suite` offers for `name`; one clear error when the suite lacks it. */
export async function requireVersion(name: string, suite: AptSuite): Promise<string> {
  const version = await candidateVersion(name, suite);
  if (!version) throw new HarnessError(`package ${name} is not in ${suite}`, 'run apt-get update on the harness lists or pick another suite');
  return version;
}

/** Downloads `name=version` once into the cache (entry keyed by name and version). */
export async function fetchDeb(ref: PackageRef): Promise<DebFile> {
  const dir = join(cacheArea('debs'), safeName(`${ref.name}_${ref.version}`));
  return ensureEntry<DebFile>(
    dir,
    async (staging) => {
      const staged = await downloadDeb(ref.name, ref.version, staging);
      const sha256 = await sha256File(staged);
      return { ...ref, path: join(dir, staged.slice(staging.length + 1)), sha256 };
    },
    // A cached download is checked against its recorded sha256 on every reuse; a mismatch is fetched again.
    { verify: (deb) => sha256Mismatch(deb.path, deb.sha256) },
  );
}

/**
 * The references with their .deb's sha256 filled in. Entries made before
 * pinning was recorded lack it; the .deb is still in the cache, so this costs
 * no download.
 */
export async function pinAll(refs: readonly PackageRef[]): Promise<PackageRef[]> {
  return Promise.all(refs.map(async (ref) => (ref.sha256 ? ref : pinned(await fetchDeb(ref)))));
}

/** Unpacks a .deb's data into `dest` with dpkg-deb -x (nothing is installed). */
export async function extractDeb(deb: string, dest: string): Promise<void> {
  await execa(await toolPath('dpkg-deb'), ['-x', deb, dest], { timeout: scaledMs(DPKG_TIMEOUT_MS) });
}

/** Debian versions hold ':' (epochs) and '+'; keep cache directory names plain. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._+-]/g, '_');
}
