import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaseFileError } from './load.ts';

/** Case names listed in cases/sets/<name>.json (e.g. the default set `npm start` runs). */
export async function loadCaseSet(casesDir: string, name: string): Promise<string[]> {
  const path = join(casesDir, 'sets', `${name}.json`);
  const data = JSON.parse(await readFile(path, 'utf8').catch(() => {
    throw new CaseFileError(`no case set '${name}' (${path})`, 'see cases/sets/');
  })) as { cases?: unknown };
  if (!Array.isArray(data.cases) || data.cases.some((c) => typeof c !== 'string')) throw new CaseFileError(`${path}: cases must be a list of case names`);
  return data.cases as string[];
}
