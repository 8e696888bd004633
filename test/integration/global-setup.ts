import type { TestProject } from 'vitest/node';
import { ensureQemu } from '../../harness/qemu-build/qemu.ts';
import { join } from 'node:path';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { ensureFirmware } from '../../harness/image/firmware.ts';
import { ensureInitramfs } from '../../harness/image/initramfs.ts';
import { ensureKernel } from '../../harness/image/kernel.ts';
import { ensureDebianBinQemu } from '../../harness/qemu-build/debian-bin.ts';
import { silentReporter } from '../../harness/host/progress.ts';
import { loadProfiles } from '../../harness/traits/profiles.ts';
import type { SourcedQemu, Testbed } from './testbed.ts';

/**
 * Builds (or finds in the cache) everything the integration tests run on,
 * once per `npm test`: the patched QEMU (v5 and v6 series), the unpatched
 * baseline, the QEMU of each revision with a source of its own (upstream-11.1:
 * Debian sid's binary, unpacked once into the cache), the guest kernels (our minimal one and Debian's 6.1) with their initramfs, and both firmwares the
 * seed cases use. A cold cache costs a few QEMU builds; a warm one seconds.
 * Shared by the `integration` and `cases` projects.
 */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('testbed', await prepareTestbed());
  // Watch mode: a re-run (a case file, a patch or the traits changed) builds what changed first.
  project.onTestsRerun(async () => project.provide('testbed', await prepareTestbed()));
}

async function prepareTestbed(): Promise<Testbed> {
  const v5 = await ensureQemu({ patches: join(REPO_ROOT, 'patches', 'memmap-type', 'v5') });
  const v6 = await ensureQemu({ patches: join(REPO_ROOT, 'patches', 'memmap-type', 'v6') });
  const baseline = await ensureQemu({ patches: null });
  // The cases' default kernel is our minimal build; Debian's 6.1 is still used by some tests.
  for (const id of ['minimal-6.1', 'bookworm-6.1']) await ensureInitramfs((await ensureKernel(id)).id);
  await ensureFirmware('ovmf-sid');
  await ensureFirmware('seabios-bookworm');
  return {
    qemuV5: v5.manifest.binary,
    qemuV6: v6.manifest.binary,
    qemuBaseline: baseline.manifest.binary,
    firmwareDirs: v5.manifest.firmwareDirs,
    sourced: await sourcedQemus(),
  };
}

/** The runtime of every revision whose traits name a `source` (a debian-bin: spec); warm: a manifest read each. */
async function sourcedQemus(): Promise<Record<string, SourcedQemu>> {
  const sourced: Record<string, SourcedQemu> = {};
  for (const profile of loadProfiles()) {
    if (profile.source === undefined) continue;
    const { manifest } = await ensureDebianBinQemu(profile.source, { reporter: silentReporter });
    sourced[profile.id] = { binary: manifest.binary, firmwareDirs: manifest.firmwareDirs };
  }
  return sourced;
}
