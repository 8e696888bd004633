import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../qemu-build/config.ts';
import { HarnessError } from '../util/errors.ts';

/** What one revision of the memmap-type interface does (patches/memmap-type/profiles.json). */
export interface RevisionProfile {
  /** Short id used in case files and reports: `baseline`, `v5`, `v6`. */
  id: string;
  /** How reports name it: `v6+`. */
  label: string;
  description: string;
  /** Series directory relative to the repository root; null for the unpatched baseline. */
  series: string | null;
  /** false: QEMU does not know the option at all (the harness says "unsupported"). */
  memmapTypeSupported: boolean;
  /** memmap-type on a node without memdev= is refused. */
  memmapNeedsMemdev: boolean;
  /** A reserved node gets no SRAT memory affinity rows (the address layout of later nodes is unchanged). */
  reservedLeavesSrat: boolean;
}

/** The profile file the project ships. */
export const PROFILES_FILE = join(REPO_ROOT, 'patches', 'memmap-type', 'profiles.json');

const cache = new Map<string, RevisionProfile[]>();

/** Every profile in the file, validated; read once per path. */
export function loadProfiles(path = PROFILES_FILE): RevisionProfile[] {
  let profiles = cache.get(path);
  if (!profiles) {
    profiles = parseProfiles(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
    cache.set(path, profiles);
  }
  return profiles;
}

/** One profile by id; throws naming the known ids. */
export function getProfile(id: string, path = PROFILES_FILE): RevisionProfile {
  const profiles = loadProfiles(path);
  const found = profiles.find((p) => p.id === id);
  if (!found) throw new HarnessError(`no revision profile '${id}' in ${path}`, `known: ${profiles.map((p) => p.id).join(', ')}`);
  return found;
}

/** The profile of a series directory (matched by its last path component), or the baseline for none. */
export function profileForSeries(seriesPath: string | null | undefined, path = PROFILES_FILE): RevisionProfile | undefined {
  const profiles = loadProfiles(path);
  if (seriesPath === null || seriesPath === undefined) return profiles.find((p) => p.series === null);
  const name = basename(seriesPath.replace(/\/+$/, ''));
  return profiles.find((p) => p.series !== null && basename(p.series) === name);
}

/**
 * The profile of a QemuUnderTest label as resolveQemu makes it (`baseline`,
 * `patched-v5`, `patched-v6`) or a bare profile id (`v5`); undefined for a
 * binary the harness did not build (the caller must say which profile it is).
 */
export function profileForQemuLabel(label: string, path = PROFILES_FILE): RevisionProfile | undefined {
  const profiles = loadProfiles(path);
  const byId = profiles.find((p) => p.id === label);
  if (byId) return byId;
  if (label === 'baseline') return profileForSeries(null, path);
  const patched = /^patched-(.+)$/.exec(label);
  return patched?.[1] === undefined ? undefined : profileForSeries(patched[1], path);
}

function parseProfiles(data: unknown, where: string): RevisionProfile[] {
  const list = (data as { profiles?: unknown }).profiles;
  if (!Array.isArray(list) || list.length === 0) throw new HarnessError(`${where}: 'profiles' must be a non-empty list`);
  return list.map((entry, i) => checkProfile(entry, `${where}: profiles[${i}]`));
}

function checkProfile(entry: unknown, at: string): RevisionProfile {
  const p = entry as Partial<RevisionProfile>;
  const bad = (field: string, what: string): never => {
    throw new HarnessError(`${at}.${field} ${what}`, 'see patches/memmap-type/profiles.json');
  };
  if (typeof p !== 'object' || p === null) return bad('', 'must be an object');
  if (typeof p.id !== 'string' || !/^[a-z0-9][a-z0-9.+-]*$/.test(p.id)) bad('id', 'must be a short lower-case id');
  if (typeof p.label !== 'string') bad('label', 'must be a string');
  if (typeof p.description !== 'string') bad('description', 'must be a string');
  if (p.series !== null && typeof p.series !== 'string') bad('series', 'must be a directory or null');
  for (const flag of ['memmapTypeSupported', 'memmapNeedsMemdev', 'reservedLeavesSrat'] as const) {
    if (typeof p[flag] !== 'boolean') bad(flag, 'must be true or false');
  }
  return p as RevisionProfile;
}
