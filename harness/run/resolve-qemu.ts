import { access, constants } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { FIRMWARE_DIRS } from '../build/config.ts';
import { ensureQemu } from '../build/qemu.ts';
import { HarnessError } from '../util/errors.ts';
import type { QemuUnderTest } from './run-case.ts';

/** Where the QEMU under test comes from: a binary the user names, or a build (source + series, or none for the baseline). */
export type QemuChoice = { binary: string } | { source?: string; patches?: string | null };

/** The binary for a choice, building it when it is not in the cache yet. */
export async function resolveQemu(choice: QemuChoice): Promise<QemuUnderTest> {
  if ('binary' in choice) {
    const binary = resolve(choice.binary);
    await access(binary, constants.X_OK).catch(() => {
      throw new HarnessError(`--qemu ${choice.binary}: no executable there`, 'give the path of a qemu-system-x86_64');
    });
    return { binary, label: binary, firmwareDirs: FIRMWARE_DIRS };
  }
  const { manifest } = await ensureQemu(choice);
  const label = manifest.patched ? `patched-${basename(manifest.seriesPath ?? 'series')}` : 'baseline';
  return { binary: manifest.binary, label, firmwareDirs: manifest.firmwareDirs };
}
