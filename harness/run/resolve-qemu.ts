import { access, constants } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ensureQemuFromSource } from '../qemu-build/any-source.ts';
import { FIRMWARE_DIRS, REPO_ROOT } from '../util/paths.ts';
import type { EnsureQemuOptions, QemuManifest } from '../qemu-build/qemu.ts';
import { loadProfiles } from '../traits/profiles.ts';
import { cachedInterfaces, profileFromProbe, type ProfileDecision } from '../interface/detect.ts';
import { loadSeries } from '../source/series.ts';
import { HarnessError } from '../util/errors.ts';
import { sha256 } from '../util/hash.ts';
import type { QemuUnderTest } from './run-case.ts';

/** Where the QEMU under test comes from: a binary the user names, or a build (source + series, or none for the baseline). */
export type QemuChoice = { binary: string } | { source?: string; patches?: string | null };

/** A QEMU under test with the revision profile its build or its probed behaviour implies. */
export interface ResolvedQemu extends QemuUnderTest {
  profile: ProfileDecision;
  /** How a series went in (moved or fuzzed hunks) and its base-commit check, for a build from a series. */
  build?: Pick<QemuManifest, 'applied' | 'base'>;
}

/** For a QEMU the harness builds: abort the build with `signal`; its progress goes to `reporter` (default stderr). */
export type QemuBuildOptions = Pick<EnsureQemuOptions, 'signal' | 'reporter'>;

/** The binary for a choice, building it when it is not in the cache yet, and its revision profile. */
export async function resolveQemu(choice: QemuChoice, build: QemuBuildOptions = {}): Promise<ResolvedQemu> {
  const qemu = await qemuFor(choice, build);
  const profile = await profileFromProbe(qemu);
  // A binary the harness did not build: its version from the (cached) interface probe.
  const version = qemu.version ?? (await cachedInterfaces(qemu.binary, qemu.firmwareDirs)).qemuVersion;
  return { ...qemu, ...(version ? { version } : {}), profile };
}

async function qemuFor(choice: QemuChoice, build: QemuBuildOptions): Promise<QemuUnderTest & Pick<ResolvedQemu, 'build'>> {
  if ('binary' in choice) {
    const binary = resolve(choice.binary);
    await access(binary, constants.X_OK).catch(() => {
      throw new HarnessError(`--qemu ${choice.binary}: no executable there`, 'give the path of a qemu-system-x86_64');
    });
    return { binary, label: binaryLabel(binary), firmwareDirs: FIRMWARE_DIRS };
  }
  const { manifest } = await ensureQemuFromSource({ ...choice, ...build });
  const built = { version: manifest.qemuVersion, buildKey: manifest.cacheKey };
  if ('kind' in manifest) return { binary: manifest.binary, label: safeLabel(manifest.label), firmwareDirs: manifest.firmwareDirs, ...built };
  const label = manifest.patched ? `patched-${safeLabel(basename(manifest.seriesPath ?? 'series'))}` : 'baseline';
  const ownSeries = await ownSeriesOf(manifest);
  const notes = { build: { ...(manifest.applied ? { applied: manifest.applied } : {}), base: manifest.base } };
  return { binary: manifest.binary, label, firmwareDirs: manifest.firmwareDirs, ...built, ...(ownSeries ? { ownSeries } : {}), ...notes };
}

/**
 * A label for a binary the harness did not build. Labels go into file names
 * (serial logs, SVG maps) and JUnit names, so a path becomes
 * `bin-<directory>-<binary>-<hash of the full path>`: readable, safe, and
 * distinct for two binaries of one name.
 */
export function binaryLabel(binary: string): string {
  const hint = safeLabel(`${basename(dirname(binary))}-${basename(binary)}`);
  return `bin-${hint}-${sha256(binary).slice(0, 6)}`;
}

/** `text` with everything but letters, digits, `.`, `_`, `+` and `-` turned into `_`, never starting with a dot. */
export function safeLabel(text: string): string {
  return text.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^\.+/, '_');
}

/** The revision id when the build's series is byte for byte one of this project's own (patches/memmap-type/<id>). */
async function ownSeriesOf(manifest: QemuManifest): Promise<string | undefined> {
  if (manifest.seriesHash === null) return undefined;
  for (const profile of loadProfiles()) {
    if (profile.series === null) continue;
    const ours = await loadSeries(join(REPO_ROOT, profile.series)).catch(() => undefined);
    if (ours?.hash === manifest.seriesHash) return profile.id;
  }
  return undefined;
}
