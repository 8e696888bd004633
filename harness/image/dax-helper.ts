import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEntry } from '../cache/entry.ts';
import { cacheArea } from '../util/cache-dirs.ts';
import { HarnessError } from '../util/errors.ts';
import { hashJson, sha256, sha256File } from '../util/hash.ts';
import { toolPath } from '../util/host-tools.ts';
import { scaledMs } from '../util/timeouts.ts';

/** the guest program's C helper that maps /dev/daxX.Y and checks a pattern (images/guest/dax-use.c). */
export const DAX_USE_SOURCE = fileURLToPath(new URL('../../images/guest/dax-use.c', import.meta.url));

/** Static, so it runs in the busybox initramfs of any guest kernel; stripped, so it stays small. */
export const DAX_USE_CFLAGS = ['-static', '-O2', '-s', '-Wall', '-Wextra', '-Werror'] as const;

/** A compiled dax helper in the cache. */
export interface DaxHelperManifest {
  /** The static binary, to copy into the initramfs as /bin/dax-use. */
  path: string;
  sha256: string;
  source: { path: string; sha256: string };
  /** `gcc --version`'s first line: part of the key, so a compiler update rebuilds it. */
  compiler: string;
  key: string;
}
type StoredHelper = Omit<DaxHelperManifest, 'path'> & { file: string };

/** The host compiler failed on the helper's source; its output is the message. */
export class DaxHelperBuildError extends HarnessError {}

const FORMAT = 1;
const COMPILE_TIMEOUT_MS = 120_000;

/**
 * Compiles images/guest/dax-use.c with the host gcc (`-static -O2`) into the
 * cache, keyed by the source, the flags and the compiler's version; a cache
 * hit costs one `gcc --version`. Throws MissingToolError without gcc and
 * DaxHelperBuildError when it does not compile (no libc6-dev: no libc.a).
 */
export async function ensureDaxHelper(): Promise<DaxHelperManifest> {
  const gcc = await toolPath('gcc');
  const source = await readFile(DAX_USE_SOURCE);
  const { stdout } = await execa(gcc, ['--version'], { timeout: scaledMs(30_000) });
  const compiler = stdout.split('\n')[0] ?? 'gcc';
  const inputs = { format: FORMAT, source: sha256(source), flags: DAX_USE_CFLAGS, compiler };
  const key = hashJson(inputs);
  const dir = join(cacheArea('dax-helper'), key);
  const stored = await ensureEntry<StoredHelper>(dir, async (staging) => {
    const out = join(staging, 'dax-use');
    const result = await execa(gcc, [...DAX_USE_CFLAGS, '-o', out, DAX_USE_SOURCE], { reject: false, all: true, timeout: scaledMs(COMPILE_TIMEOUT_MS) });
    if (result.exitCode !== 0 || result.timedOut) {
      const first = (result.all ?? '').split('\n').find((l) => /error/.test(l)) ?? `gcc exited with ${String(result.exitCode)}`;
      throw new DaxHelperBuildError(`cannot compile the dax helper ${DAX_USE_SOURCE}: ${first.trim()}`, 'a static build needs libc6-dev (libc.a): run scripts/setup-debian.sh');
    }
    return { file: 'dax-use', sha256: await sha256File(out), source: { path: DAX_USE_SOURCE, sha256: inputs.source }, compiler, key };
  });
  const { file, ...rest } = stored;
  return { ...rest, path: join(dir, file) };
}
