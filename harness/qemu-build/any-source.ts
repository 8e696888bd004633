import { ensureQemu, type EnsureQemuOptions, type QemuBuild } from './qemu.ts';
import { ensureDebianBinQemu, type DebianBinQemu } from './debian-bin.ts';
import { isDebianBinSpec } from '../source/spec.ts';
import { UsageError } from '../util/errors.ts';

/** A QEMU under test from any --source: built from a source tree, or unpacked from a Debian binary package. */
export type QemuFromSource = QemuBuild | DebianBinQemu;

/**
 * ensureQemu for source trees; for a `debian-bin:` spec the unpacked binary
 * package instead. A binary package cannot take a series: asking for one (any
 * `patches` but undefined or null) is an error, not a silent unpatched run.
 */
export async function ensureQemuFromSource(options: EnsureQemuOptions): Promise<QemuFromSource> {
  if (!isDebianBinSpec(options.source)) return ensureQemu(options);
  if (options.patches !== undefined && options.patches !== null) {
    throw new UsageError(`${options.source?.trim()} is a binary package: the series ${options.patches} cannot be applied to it`, 'drop --patches (or use --no-patches), or build from a source tree');
  }
  return ensureDebianBinQemu(options.source ?? '', { cacheEnv: options.cacheEnv, signal: options.signal, reporter: options.reporter });
}
