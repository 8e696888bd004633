import { access, constants } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ensureQemuFromSource } from '../build/any-source.ts';
import { FIRMWARE_DIRS } from '../build/config.ts';
import { profileFromProbe, type ProfileDecision } from '../probe/interface.ts';
import { HarnessError } from '../util/errors.ts';
import type { QemuUnderTest } from './run-case.ts';

/** Where the QEMU under test comes from: a binary the user names, or a build (source + series, or none for the baseline). */
export type QemuChoice = { binary: string } | { source?: string; patches?: string | null };

/** A QEMU under test with the revision profile its build or its probed behaviour implies. */
export interface ResolvedQemu extends QemuUnderTest {
  profile: ProfileDecision;
}

/** The binary for a choice, building it when it is not in the cache yet, and its revision profile. */
export async function resolveQemu(choice: QemuChoice): Promise<ResolvedQemu> {
  const qemu = await qemuFor(choice);
  return { ...qemu, profile: await profileFromProbe(qemu) };
}

async function qemuFor(choice: QemuChoice): Promise<QemuUnderTest> {
  if ('binary' in choice) {
    const binary = resolve(choice.binary);
    await access(binary, constants.X_OK).catch(() => {
      throw new HarnessError(`--qemu ${choice.binary}: no executable there`, 'give the path of a qemu-system-x86_64');
    });
    return { binary, label: binary, firmwareDirs: FIRMWARE_DIRS };
  }
  const { manifest } = await ensureQemuFromSource(choice);
  if ('kind' in manifest) return { binary: manifest.binary, label: manifest.label, firmwareDirs: manifest.firmwareDirs };
  const label = manifest.patched ? `patched-${basename(manifest.seriesPath ?? 'series')}` : 'baseline';
  return { binary: manifest.binary, label, firmwareDirs: manifest.firmwareDirs };
}
