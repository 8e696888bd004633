import { mkdir } from 'node:fs/promises';
import type { CaseSpec } from '../case/types.ts';
import { formatVerdict } from '../report/console.ts';
import type { Verdict } from '../core/vocabulary.ts';
import { caseAppliesTo } from '../model/from-case.ts';
import { profileForQemuLabel } from '../model/profiles.ts';
import { runCase, type CaseRunOptions } from './run-case.ts';

/** Runs cases one after another (each guest has up to 8 vCPUs on a 2-core host), printing each verdict as it lands. */
export async function runCases(cases: CaseSpec[], options: CaseRunOptions, print: (line: string) => void = console.log): Promise<Verdict[]> {
  await mkdir(options.logDir, { recursive: true });
  const verdicts: Verdict[] = [];
  const profile = options.profile ?? profileForQemuLabel(options.qemu.label)?.id;
  for (const spec of cases) {
    if (profile !== undefined && !caseAppliesTo(spec, profile)) {
      print(`skipped     ${spec.name}  (about revisions ${spec.profiles?.join(', ')}, not ${profile})`);
      continue;
    }
    const verdict = await runCase(spec, options);
    formatVerdict(verdict).forEach((line) => print(line));
    verdicts.push(verdict);
  }
  return verdicts;
}
