import { basename } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import { loadTraits, TRAITS_FILE, type RevisionTraits } from './traits.ts';

/** What one revision of the memmap-type interface does (harness/traits/traits.json `revisions`), with its id. */
export interface RevisionProfile extends RevisionTraits {
  /** Short id used in case files and reports: `baseline`, `v5`, `v6`. */
  id: string;
}

/** The file the profiles come from. */
export const PROFILES_FILE = TRAITS_FILE;

/** Every revision profile, in file order. Throws HarnessError when the traits file is malformed. */
export function loadProfiles(path = PROFILES_FILE): RevisionProfile[] {
  return Object.entries(loadTraits(path).revisions).map(([id, traits]) => ({ id, ...traits }));
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
