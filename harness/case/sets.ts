import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isFirmwareId } from '../image/firmware.ts';
import { CaseFileError } from './load.ts';

/** A case set (cases/sets/<name>.json): the case names, and the firmware the set runs them on if not each case's own. */
export interface CaseSet {
  cases: string[];
  /** Firmware id every case of the set runs on (e.g. qboot in the default set, for speed); absent: each case's own. */
  firmware?: string;
}

/** Case names listed in cases/sets/<name>.json (e.g. the default set `npm start` runs). */
export async function loadCaseSet(casesDir: string, name: string): Promise<string[]> {
  return (await loadCaseSetSpec(casesDir, name)).cases;
}

/** The whole set file, checked: its case names and its firmware. */
export async function loadCaseSetSpec(casesDir: string, name: string): Promise<CaseSet> {
  const path = join(casesDir, 'sets', `${name}.json`);
  const data = JSON.parse(await readFile(path, 'utf8').catch(() => {
    throw new CaseFileError(`no case set '${name}' (${path})`, 'see cases/sets/');
  })) as { cases?: unknown; firmware?: unknown };
  if (!Array.isArray(data.cases) || data.cases.some((c) => typeof c !== 'string')) throw new CaseFileError(`${path}: cases must be a list of case names`);
  if (data.firmware !== undefined && (typeof data.firmware !== 'string' || !isFirmwareId(data.firmware))) {
    throw new CaseFileError(`${path}: firmware must be a firmware id, not ${JSON.stringify(data.firmware)}`, 'see harness/image/firmware.ts');
  }
  return { cases: data.cases as string[], ...(data.firmware !== undefined ? { firmware: data.firmware } : {}) };
}
