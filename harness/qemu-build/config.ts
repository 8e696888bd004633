import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { REPO_ROOT } from '../util/paths.ts';

/** Bump when the build procedure changes in a way that changes the binary: every cached build is then rebuilt. */
export const BUILDER_VERSION = 1;

/** The series `build` applies unless told otherwise. */
export const DEFAULT_SERIES_DIR = join(REPO_ROOT, 'patches', 'memmap-type', 'v5');

/** Name of the device config inside the QEMU tree; --with-devices-x86_64 refers to it by this name. */
export const DEVICE_CONFIG_NAME = 'memmap-harness';
export const DEVICE_CONFIG_TREE_PATH = join('configs', 'devices', 'x86_64-softmmu', `${DEVICE_CONFIG_NAME}.mak`);

/** Only the x86_64 system emulator with TCG and the boards the cases use: about 1000 ninja steps instead of 1600+. */
export const CONFIGURE_ARGS: readonly string[] = [
  '--target-list=x86_64-softmmu',
  '--without-default-features',
  '--without-default-devices',
  `--with-devices-x86_64=${DEVICE_CONFIG_NAME}`,
  '--enable-tcg',
  '--disable-docs',
  '--disable-user',
  '--disable-install-blobs',
  // The +ds tarball has no bundled meson wheel; QEMU's venv must see the system's meson and pycotap.
  '--python=/usr/bin/python3',
];

export const NINJA_TARGET = 'qemu-system-x86_64';

export const TIMEOUTS_MS = {
  configure: 10 * 60 * 1000,
  ninja: 60 * 60 * 1000,
  version: 30 * 1000,
} as const;

/** The device config (harness/qemu-build/devices-x86_64.mak) written into every tree; part of the cache key. */
export async function readDeviceConfig(): Promise<string> {
  return readFile(fileURLToPath(new URL('./devices-x86_64.mak', import.meta.url)), 'utf8');
}
