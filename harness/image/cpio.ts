import { execa } from 'execa';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { toolPath } from '../util/host-tools.ts';
import { scaledMs } from '../util/timeouts.ts';

const CPIO_TIMEOUT_MS = 2 * 60 * 1000;
const MAX_BUFFER = 512 * 1024 * 1024;

/**
 * Packs `root` into a gzip'd newc cpio at `out` (the format the kernel unpacks
 * as an initramfs). Entries are sorted, owned by root and dated 0 so the same
 * tree always gives the same bytes.
 */
export async function packCpioGz(root: string, out: string): Promise<void> {
  const paths = await listTree(root);
  for (const p of paths) await utimes(join(root, p), 0, 0);
  const { stdout } = await execa(await toolPath('cpio'), ['--create', '--format=newc', '--owner=0:0', '--reproducible', '--null', '--quiet'], {
    cwd: root,
    input: paths.map((p) => `${p}\0`).join(''),
    encoding: 'buffer',
    maxBuffer: MAX_BUFFER,
    timeout: scaledMs(CPIO_TIMEOUT_MS),
  });
  await writeFile(out, gzipSync(stdout, { level: 9 }));
}

/** The member names of a gzip'd cpio archive, as `cpio -t` prints them. */
export async function listCpioGz(file: string): Promise<string[]> {
  const { stdout } = await execa(await toolPath('cpio'), ['--list', '--quiet'], {
    input: gunzipSync(await readFile(file)),
    maxBuffer: MAX_BUFFER,
    timeout: scaledMs(CPIO_TIMEOUT_MS),
  });
  return stdout.split('\n').filter(Boolean);
}

/** Every directory and file under `root`, relative, parents before children. */
async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.map((e) => relative(root, join(e.parentPath, e.name))).sort();
}
