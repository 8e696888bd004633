import { loadCases } from '../case/load.ts';
import { loadCaseSetSpec } from '../case/sets.ts';
import type { CaseSpec } from '../case/types.ts';
import { CASES_DIR } from '../util/paths.ts';
import type { PlanEntry } from './run-sides.ts';

/** What to run on every side: cases by name and by set, on listed firmware or each set's (or case's) own. */
export interface PlanRequest {
  cases: readonly string[];
  sets: readonly string[];
  /** Run every case on each of these; empty: the set's firmware when it names one, else the case's own. */
  firmware: readonly string[];
}

/**
 * The plan entries, each (case, firmware) once whatever the sets repeat.
 * Neither cases nor sets given: the default set. Throws CaseFileError for an
 * unknown case or set.
 */
export async function planFor(request: PlanRequest, casesDir = CASES_DIR): Promise<PlanEntry[]> {
  const groups: { specs: CaseSpec[]; firmware?: string }[] = [];
  const sets = request.cases.length === 0 && request.sets.length === 0 ? ['default'] : request.sets;
  for (const name of sets) {
    const set = await loadCaseSetSpec(casesDir, name);
    groups.push({ specs: await loadCases(casesDir, set.cases), ...(set.firmware ? { firmware: set.firmware } : {}) });
  }
  if (request.cases.length > 0) groups.push({ specs: await loadCases(casesDir, [...request.cases]) });
  const seen = new Set<string>();
  const out: PlanEntry[] = [];
  for (const group of groups) {
    for (const spec of group.specs) {
      const firmwares = request.firmware.length > 0 ? request.firmware : [group.firmware];
      for (const firmware of firmwares) {
        const key = `${spec.name}@${firmware ?? spec.firmware}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ spec, ...(firmware === undefined ? {} : { firmware }) });
      }
    }
  }
  return out;
}
