import { execa } from 'execa';
import { access, chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry } from '../cache/entry.ts';
import { HarnessError } from '../util/errors.ts';
import { toolPath } from '../util/host-tools.ts';
import { hashJson, sha256, sha256File } from '../util/hash.ts';
import { packCpioGz } from './cpio.ts';
import { ensureKernel, type KernelBuildOptions, type KernelId, type KernelModule } from './kernel.ts';
import { scaledMs } from '../util/timeouts.ts';
import { ensureDaxHelper, type DaxHelperManifest } from './dax-helper.ts';

/** The guest program's /init, kept as a readable file in the repository. */
export const GUEST_INIT = fileURLToPath(new URL('../../images/guest/init', import.meta.url));
/** Statically linked busybox from Debian's busybox-static: the whole userland of the guest program. */
export const BUSYBOX = '/bin/busybox';

/** A guest initramfs for one kernel; every path is absolute. */
export interface InitramfsManifest {
  kernelId: KernelId;
  release: string;
  /** The gzip'd newc cpio to pass as -initrd. */
  path: string;
  /** Hash of the inputs (init script, busybox, module files): the cache key. */
  key: string;
  /** Modules inside, in the order init loads them. */
  modules: string[];
  busybox: { path: string; sha256: string };
  init: { path: string; sha256: string };
  /** /bin/dax-use, the static helper that maps a dax device (images/guest/dax-use.c). */
  daxUse: { sha256: string; compiler: string };
  dir: string;
}
type StoredInitramfs = Omit<InitramfsManifest, 'path' | 'dir'> & { file: string };

const FORMAT = 2; // bump when the layout inside the cpio changes
const DECOMPRESS_TIMEOUT_MS = 60_000;

/** Builds (or finds in the cache) the guest initramfs for a kernel; rebuilt only when an input changes. */
export async function ensureInitramfs(kernelId: string, build: KernelBuildOptions = {}): Promise<InitramfsManifest> {
  const kernel = await ensureKernel(kernelId, build);
  await access(BUSYBOX).catch(() => {
    throw new HarnessError(`${BUSYBOX} is missing`, 'install busybox-static (scripts/setup-debian.sh)');
  });
  const init = await readFile(GUEST_INIT);
  const helper = await ensureDaxHelper();
  // The kernel is part of the key: kernels without modules (minimal ones) would otherwise share one entry and its manifest.
  const inputs = {
    format: FORMAT,
    kernel: { id: kernel.id, release: kernel.release },
    init: sha256(init),
    busybox: await sha256File(BUSYBOX),
    daxUse: helper.sha256,
    modules: await Promise.all(kernel.modules.map(async (m) => ({ name: m.name, sha256: await sha256File(m.path) }))),
  };
  const key = hashJson(inputs);
  const dir = join(cacheArea('initramfs'), key);
  const stored = await ensureEntry<StoredInitramfs>(dir, async (staging, tree) => {
    await layOutTree(tree, init, helper, kernel.modules);
    await packCpioGz(tree, join(staging, 'initrd.cpio.gz'));
    return {
      kernelId: kernel.id,
      release: kernel.release,
      file: 'initrd.cpio.gz',
      key,
      modules: kernel.modules.map((m) => m.name),
      busybox: { path: BUSYBOX, sha256: inputs.busybox },
      init: { path: GUEST_INIT, sha256: inputs.init },
      daxUse: { sha256: helper.sha256, compiler: helper.compiler },
    };
  });
  const { file, ...rest } = stored;
  return { ...rest, path: join(dir, file), dir };
}

/** /init, /bin/busybox, /bin/dax-use, and /lib/modules with plain .ko files plus `load-order` (dependencies first). */
async function layOutTree(tree: string, init: Buffer, helper: DaxHelperManifest, modules: KernelModule[]): Promise<void> {
  await mkdir(join(tree, 'bin'), { recursive: true });
  await mkdir(join(tree, 'lib', 'modules'), { recursive: true });
  await writeFile(join(tree, 'init'), init);
  await chmod(join(tree, 'init'), 0o755);
  await copyFile(BUSYBOX, join(tree, 'bin', 'busybox'));
  await chmod(join(tree, 'bin', 'busybox'), 0o755);
  await copyFile(helper.path, join(tree, 'bin', 'dax-use'));
  await chmod(join(tree, 'bin', 'dax-use'), 0o755);
  for (const m of modules) await writeFile(join(tree, 'lib', 'modules', `${m.name}.ko`), await plainModule(m.path));
  await writeFile(join(tree, 'lib', 'modules', 'load-order'), modules.map((m) => `${m.name}.ko\n`).join(''));
}

/** busybox insmod may not read compressed modules, so decompress .ko.xz / .ko.zst here. */
async function plainModule(path: string): Promise<Uint8Array> {
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : undefined;
  if (!tool) return readFile(path);
  const { stdout } = await execa(await toolPath(tool), ['-dc', path], { encoding: 'buffer', timeout: scaledMs(DECOMPRESS_TIMEOUT_MS) });
  return stdout;
}
