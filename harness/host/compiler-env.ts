import { access, mkdir } from 'node:fs/promises';

/** Debian's ccache masquerade directory: compilers found here go through ccache. */
export const CCACHE_COMPILER_DIR = '/usr/lib/ccache';

/** Environment for configure and ninja: ccache in front of the compilers when it is installed and wanted. */
export async function compilerEnv(tree: string, ccacheDir: string | null): Promise<Record<string, string>> {
  if (ccacheDir === null) return {};
  const present = await access(CCACHE_COMPILER_DIR).then(() => true, () => false);
  if (!present) return {};
  await mkdir(ccacheDir, { recursive: true });
  return {
    PATH: `${CCACHE_COMPILER_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    CCACHE_DIR: ccacheDir,
    // Paths under the tree become relative, so builds in different staging dirs share hits.
    CCACHE_BASEDIR: tree,
    CCACHE_NOHASHDIR: 'true',
  };
}
