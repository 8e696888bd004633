import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry } from '../cache/entry.ts';
import { downloadSource } from '../util/apt.ts';
import { HarnessError } from '../util/errors.ts';
import { sha256File, sha256Mismatch } from '../util/hash.ts';
import type { DebianSpec } from './spec.ts';

/** A Debian source package's orig tarball, kept in the cache so its identity is known without the network. */
export interface DebianOrig {
  package: string;
  version: string;
  /** Absolute path of the orig tarball in the cache. */
  tarball: string;
  sha256: string;
}

interface DownloadManifest {
  package: string;
  version: string;
  origTarball: string;
  sha256: string;
}

/** Downloads the source package once (apt verifies it against the archive's index) and returns its orig tarball. */
export async function ensureDebianOrig(spec: DebianSpec, cacheEnv: NodeJS.ProcessEnv = process.env, log?: (line: string) => void): Promise<DebianOrig> {
  const dir = join(cacheArea('downloads', cacheEnv), `debian-${spec.package}_${safeName(spec.version)}`);
  const manifest = await ensureEntry<DownloadManifest>(dir, async (staging) => {
    log?.(`downloading Debian source ${spec.package}=${spec.version}`);
    const files = await downloadSource(spec.package, spec.version, staging);
    const orig = pickOrigTarball(files);
    if (!orig) {
      throw new HarnessError(`source package ${spec.package}=${spec.version} has no orig tarball (got ${files.join(', ')})`, 'use a non-native Debian source package');
    }
    return { package: spec.package, version: spec.version, origTarball: orig, sha256: await sha256File(join(staging, orig)) };
  }, { verify: (m) => sha256Mismatch(join(dir, m.origTarball), m.sha256) });
  return { package: manifest.package, version: manifest.version, tarball: join(dir, manifest.origTarball), sha256: manifest.sha256 };
}

/** The main orig tarball (not an `orig-<component>` one). Component tarballs are not used. */
export function pickOrigTarball(files: string[]): string | undefined {
  return files.find((f) => /\.orig\.tar\.(xz|gz|bz2|zst)$/.test(f));
}

/** Unpacks a tarball with one top-level directory into `dest` (which must not exist yet). */
export async function extractTarball(tarball: string, workDir: string, dest: string, run: TarRunner): Promise<void> {
  await run(['-x', '--no-same-owner', '-f', tarball, '-C', workDir]);
  const tops = (await readdir(workDir, { withFileTypes: true })).filter((e) => e.isDirectory());
  if (tops.length !== 1 || !tops[0]) throw new HarnessError(`${tarball} does not hold exactly one top-level directory`, 'use an orig tarball in the usual layout');
  await rename(join(workDir, tops[0].name), dest);
}

export type TarRunner = (args: string[]) => Promise<void>;

function safeName(version: string): string {
  return version.replace(/[^A-Za-z0-9.+~-]/g, '_');
}
