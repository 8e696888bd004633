import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `bzip2 -c </dev/null`: a valid bz2 stream of zero bytes. Debian's +ds tarball
 * drops the pc-bios/edk2-*.fd.bz2 blobs, but meson still declares a target that
 * unpacks each of them whenever bzip2 is installed, and fails on the missing
 * input. The harness never uses QEMU's bundled edk2 (firmware comes from -L dirs).
 */
export const EMPTY_BZ2 = Buffer.from([0x42, 0x5a, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0x00, 0x00, 0x00, 0x00]);

/** The names in pc-bios/meson.build's `fds = [ ... ]` list (empty when there is none). */
export function edk2BlobNames(mesonBuild: string): string[] {
  const list = /^\s*fds\s*=\s*\[([^\]]*)\]/m.exec(mesonBuild)?.[1];
  if (list === undefined) return [];
  return [...list.matchAll(/'([^'\s]+)'/g)].map((m) => m[1]).filter((n): n is string => n !== undefined);
}

/** Writes an empty .bz2 for every listed edk2 blob that is missing; returns the paths written (relative to the tree). */
export async function writeMissingEdk2Placeholders(tree: string): Promise<string[]> {
  const meson = await readFile(join(tree, 'pc-bios', 'meson.build'), 'utf8').catch(() => undefined);
  if (meson === undefined) return [];
  const written: string[] = [];
  for (const name of edk2BlobNames(meson)) {
    const rel = join('pc-bios', `${name}.bz2`);
    const present = await access(join(tree, rel)).then(() => true, () => false);
    if (present) continue;
    await writeFile(join(tree, rel), EMPTY_BZ2);
    written.push(rel);
  }
  return written;
}
