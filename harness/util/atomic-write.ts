import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `path` whole or not at all: the data goes to a private file beside it
 * that is then renamed over it, so a concurrent reader (another harness on the
 * shared cache) never sees half a file and a crash leaves the old one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const aside = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(aside, data, { flag: 'wx' });
    await rename(aside, path);
  } catch (error) {
    await rm(aside, { force: true });
    throw error;
  }
}
