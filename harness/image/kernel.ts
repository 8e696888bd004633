import { access, copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry } from '../cache/entry.ts';
import type { AptSuite } from '../util/apt.ts';
import type { CachedKernel, KernelModule } from './kernel-manifest.ts';
import { HarnessError } from '../util/errors.ts';
import { filesMismatch, filesSha256, hashJson } from '../util/hash.ts';
import { extractDeb, fetchDeb, pinAll, pinned, safeName, type PackageRef } from '../host/deb.ts';
import { ensureMinimalKernel, isMinimalKernelId, MINIMAL_KERNEL_IDS, type EnsureMinimalKernelOptions, type MinimalKernelId } from './minimal-kernel.ts';
import { moduleClosure, moduleName, parseBuiltin, parseModulesDep, GUEST_MODULES, runDepmod } from './modules.ts';
import { resolveKernelPackages } from './resolve.ts';

/** Debian's kernels by id: the current kernel of a suite, which must be of the named series. */
export const KERNELS = {
  'bookworm-6.1': { suite: 'bookworm', series: '6.1.' },
  'trixie-6.12': { suite: 'trixie', series: '6.12.' },
  'sid-7.2': { suite: 'sid', series: '7.2.' },
} as const satisfies Record<string, { suite: AptSuite; series: string }>;
export type DebianKernelId = keyof typeof KERNELS;
export const DEBIAN_KERNEL_IDS = Object.keys(KERNELS) as DebianKernelId[];
/** Every guest kernel: Debian's, then our own minimal ones (harness/image/minimal-kernel.ts). */
export type KernelId = DebianKernelId | MinimalKernelId;
export const KERNEL_IDS: KernelId[] = [...DEBIAN_KERNEL_IDS, ...MINIMAL_KERNEL_IDS];

/** A kernel unpacked into the cache, of any kernel id. */
export type KernelManifest = CachedKernel<KernelId>;
export type { KernelModule };

/** What entry.json stores: paths relative to the entry, so a moved cache stays valid. */
type StoredKernel = Omit<KernelManifest, 'dir'>;

export function isKernelId(id: string): id is KernelId {
  return isDebianKernelId(id) || isMinimalKernelId(id);
}

/** For a kernel the harness builds: abort it with `signal`; its progress goes to `reporter` (default stderr). */
export type KernelBuildOptions = Pick<EnsureMinimalKernelOptions, 'signal' | 'reporter'>;

/**
 * Fetches, unpacks and caches a kernel (vmlinuz + the guest program's modules); a cache
 * hit costs no download. A minimal kernel id builds that kernel the first time
 * (minutes; progress on stderr) and has no modules.
 */
export async function ensureKernel(id: string, build: KernelBuildOptions = {}): Promise<KernelManifest> {
  if (isMinimalKernelId(id)) {
    const { manifest } = await ensureMinimalKernel(id, build);
    return { ...manifest, packages: await pinAll(manifest.packages) };
  }
  if (!isDebianKernelId(id)) throw new HarnessError(`unknown kernel '${id}'`, `use one of ${KERNEL_IDS.join(', ')}`);
  return ensureDebianKernel(id);
}

function isDebianKernelId(id: string): id is DebianKernelId {
  return Object.hasOwn(KERNELS, id);
}

async function ensureDebianKernel(id: DebianKernelId): Promise<KernelManifest> {
  const { suite, series } = KERNELS[id];
  const resolved = await resolveKernelPackages(suite);
  if (!resolved.image.version.startsWith(series)) {
    throw new HarnessError(`${suite}'s kernel is now ${resolved.image.version}, not ${series}x`, `kernel id '${id}' no longer matches the suite`);
  }
  // The module list is part of the key: changing what the guest program needs re-extracts.
  const key = safeName(`${resolved.image.name}_${resolved.image.version}-${hashJson(GUEST_MODULES).slice(0, 8)}`);
  const dir = join(cacheArea('kernels'), key);
  // Checked on every reuse against the sha256 recorded when it was extracted; a mismatch is extracted (and fetched) again.
  const stored = await ensureEntry<StoredKernel>(dir, (staging, tmp) => unpackKernel(id, suite, resolved.release, resolved.image, resolved.parts, tmp, staging), { verify: (m) => filesMismatch(dir, m.fileSha256) });
  return absolutize({ ...stored, packages: await pinAll(stored.packages) }, dir);
}

async function unpackKernel(id: KernelId, suite: AptSuite, release: string, image: PackageRef, parts: PackageRef[], tmp: string, staging: string): Promise<StoredKernel> {
  const packages: PackageRef[] = [];
  for (const part of parts) {
    const deb = await fetchDeb(part);
    await extractDeb(deb.path, tmp);
    packages.push(pinned(deb));
  }
  // Older packages use /lib/modules and /boot, merged-/usr ones /usr/lib/modules.
  const base = (await exists(join(tmp, 'usr', 'lib', 'modules', release))) ? join(tmp, 'usr') : tmp;
  const modulesDir = join(base, 'lib', 'modules', release);
  const vmlinuz = await firstExisting([join(tmp, 'boot', `vmlinuz-${release}`), join(modulesDir, 'vmlinuz')], `vmlinuz of ${release}`);
  const config = await firstExisting([join(tmp, 'boot', `config-${release}`), join(modulesDir, 'config')], `config of ${release}`);
  const dep = parseModulesDep(await runDepmod(base, release));
  const builtin = parseBuiltin(await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => ''));
  const closure = moduleClosure(GUEST_MODULES, dep, builtin);
  await copyFile(vmlinuz, join(staging, 'vmlinuz'));
  await copyFile(config, join(staging, 'config'));
  const modules: KernelModule[] = [];
  for (const file of closure.files) {
    const rel = join('modules', file);
    await mkdir(dirname(join(staging, rel)), { recursive: true });
    await copyFile(join(modulesDir, file), join(staging, rel));
    modules.push({ name: moduleName(file), path: rel });
  }
  const fileSha256 = await filesSha256(staging, ['vmlinuz', 'config', ...modules.map((m) => m.path)]);
  return { id, suite, release, image, packages, vmlinuz: 'vmlinuz', config: 'config', modules, builtin: closure.builtin, absent: closure.absent, fileSha256 };
}

function absolutize(stored: StoredKernel, dir: string): KernelManifest {
  return {
    ...stored,
    vmlinuz: join(dir, stored.vmlinuz),
    config: join(dir, stored.config),
    modules: stored.modules.map((m) => ({ ...m, path: join(dir, m.path) })),
    dir,
  };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function firstExisting(paths: string[], what: string): Promise<string> {
  for (const p of paths) if (await exists(p)) return p;
  throw new HarnessError(`the kernel packages hold no ${what}`, 'the package layout changed; update harness/image/kernel.ts');
}
