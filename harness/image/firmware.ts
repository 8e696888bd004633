import { execa } from 'execa';
import { access, copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry } from '../cache/entry.ts';
import type { AptSuite } from '../util/apt.ts';
import { HarnessError } from '../util/errors.ts';
import { extractDeb, fetchDeb, pinAll, pinned, safeName, type PackageRef } from '../host/deb.ts';
import { filesMismatch, filesSha256, sha256File } from '../util/hash.ts';
import { resolveVersion } from './resolve.ts';
import { scaledMs } from '../util/timeouts.ts';

/**
 * Guest firmware by id. Which firmware passes an E820 type like 0xEFFFFFFF
 * through to the guest is itself a result (see host facts): SeaBIOS drops it,
 * trixie's OVMF drops it, sid's OVMF and QEMU's qboot pass it.
 */
export const FIRMWARES = {
  // QEMU's minimal firmware: boots -kernel straight away (about 2 s less than OVMF under TCG).
  qboot: { kind: 'qboot', installed: true, package: 'qemu-system-data' },
  'seabios-bookworm': { kind: 'seabios', installed: true, package: 'seabios' },
  'seabios-sid': { kind: 'seabios', suite: 'sid', package: 'seabios' },
  'ovmf-trixie': { kind: 'ovmf', suite: 'trixie', package: 'ovmf' },
  // In sid `ovmf` is only a metapackage; the x86-64 images are in ovmf-generic.
  'ovmf-sid': { kind: 'ovmf', suite: 'sid', package: 'ovmf-generic' },
} as const satisfies Record<string, { kind: FirmwareKind; package: string; suite?: AptSuite; installed?: true }>;
export type FirmwareId = keyof typeof FIRMWARES;
/** How a firmware is given to QEMU: a BIOS image (`-bios`) for seabios and qboot, pflash for OVMF. */
export type FirmwareKind = 'seabios' | 'qboot' | 'ovmf';
export const FIRMWARE_IDS = Object.keys(FIRMWARES) as FirmwareId[];

/** Where direct kernel boot's option ROMs (linuxboot_dma.bin, kvmvapic.bin) come from: Debian's qemu-system-data. */
export const OPTION_ROM_DIR = '/usr/share/qemu';
/** Where the installed BIOS images of the `installed` firmwares are. */
const INSTALLED_BIOS = {
  seabios: '/usr/share/seabios/bios-256k.bin',
  qboot: '/usr/share/qemu/qboot.rom',
} as const;

interface FirmwareCommon {
  id: FirmwareId;
  package: PackageRef;
  /** `installed`: the machine's Debian package; `cache`: extracted from a downloaded .deb. */
  origin: 'installed' | 'cache';
  dir: string;
}
/** A firmware given to QEMU as one BIOS image. */
export interface BiosManifest extends FirmwareCommon {
  kind: 'seabios' | 'qboot';
  bios: string;
}
export interface OvmfManifest extends FirmwareCommon {
  kind: 'ovmf';
  code: string;
  /** The pristine variable store; every run gets its own copy (see firmwareArgs). */
  vars: string;
}
export type FirmwareManifest = BiosManifest | OvmfManifest;

const OVMF_CODE = 'usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = 'usr/share/OVMF/OVMF_VARS_4M.fd';
const SEABIOS_BIOS = 'usr/share/seabios/bios-256k.bin';

export function isFirmwareId(id: string): id is FirmwareId {
  return Object.hasOwn(FIRMWARES, id);
}

/** Returns the firmware's manifest, downloading and extracting it into the cache when needed. */
export async function ensureFirmware(id: string): Promise<FirmwareManifest> {
  if (!isFirmwareId(id)) throw new HarnessError(`unknown firmware '${id}'`, `use one of ${FIRMWARE_IDS.join(', ')}`);
  const spec = FIRMWARES[id];
  if ('installed' in spec) return installedBios(id, spec.kind, spec.package);
  const version = await resolveVersion(spec.package, spec.suite);
  const ref = { name: spec.package, version };
  const dir = join(cacheArea('firmware'), safeName(`${spec.package}_${version}`));
  const files = spec.kind === 'ovmf' ? { code: OVMF_CODE, vars: OVMF_VARS } : { bios: SEABIOS_BIOS };
  // Checked on every reuse against the sha256 recorded when it was extracted; a mismatch is extracted (and fetched) again.
  const stored = await ensureEntry(dir, (staging, tmp) => extractFiles(ref, Object.values(files), tmp, staging), { verify: (m) => filesMismatch(dir, m.fileSha256) });
  const [pinnedPackage = stored.package] = await pinAll([stored.package]);
  const common = { id, package: pinnedPackage, origin: 'cache' as const, dir };
  return spec.kind === 'ovmf'
    ? { ...common, kind: 'ovmf', code: join(dir, OVMF_CODE), vars: join(dir, OVMF_VARS) }
    : { ...common, kind: 'seabios', bios: join(dir, SEABIOS_BIOS) };
}

/**
 * The QEMU arguments that select this firmware. For OVMF the variable store is
 * copied into `runDir` first: the guest writes to it, and runs must not share it.
 */
export async function firmwareArgs(firmware: FirmwareManifest, runDir: string): Promise<string[]> {
  await requireFile(join(OPTION_ROM_DIR, 'linuxboot_dma.bin'), 'install qemu-system-data (scripts/setup-debian.sh)');
  const common = ['-L', OPTION_ROM_DIR];
  if (firmware.kind !== 'ovmf') return [...common, '-bios', firmware.bios];
  await mkdir(runDir, { recursive: true });
  const varsCopy = join(runDir, `${firmware.id}-OVMF_VARS.fd`);
  await copyFile(firmware.vars, varsCopy);
  return [
    ...common,
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${firmware.code}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${varsCopy}`,
  ];
}

async function installedBios(id: FirmwareId, kind: keyof typeof INSTALLED_BIOS, pkg: string): Promise<BiosManifest> {
  const bios = INSTALLED_BIOS[kind];
  await requireFile(bios, `install ${pkg} (scripts/setup-debian.sh)`);
  const { stdout: version } = await execa('dpkg-query', ['-W', '-f=${Version}', pkg], { timeout: scaledMs(30_000) });
  // No .deb here: the installed BIOS image itself is what gets pinned.
  return { id, kind, package: { name: pkg, version, sha256: await sha256File(bios) }, origin: 'installed', dir: dirname(bios), bios };
}

/** Extracts the .deb into `tmp` and copies just `files` (paths inside the package) into `staging`. */
async function extractFiles(ref: PackageRef, files: string[], tmp: string, staging: string): Promise<{ package: PackageRef; files: string[]; fileSha256: Record<string, string> }> {
  const deb = await fetchDeb(ref);
  await extractDeb(deb.path, tmp);
  for (const file of files) {
    await requireFile(join(tmp, file), `package ${ref.name} ${ref.version} changed its layout`);
    await mkdir(join(staging, file, '..'), { recursive: true });
    await copyFile(join(tmp, file), join(staging, file));
  }
  return { package: pinned(deb), files, fileSha256: await filesSha256(staging, files) };
}

async function requireFile(path: string, hint: string): Promise<void> {
  await access(path).catch(() => {
    throw new HarnessError(`${path} is missing`, hint);
  });
}
