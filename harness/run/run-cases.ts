import { mkdir } from 'node:fs/promises';
import type { CaseSpec } from '../case/types.ts';
import { formatVerdict } from '../report/console.ts';
import type { Verdict } from '../core/vocabulary.ts';
import { runPool } from '../host/pool.ts';
import { caseAppliesTo } from '../model/from-case.ts';
import { profileForQemuLabel } from '../traits/profiles.ts';
import { runCase, type CaseRunOptions } from './run-case.ts';

/** How to run a list of cases: as one case, plus how many guests at once. */
export interface RunCasesOptions extends CaseRunOptions {
  /** Guests at once (default 1). Verdicts are printed in case order whatever order they finish in. */
  jobs?: number;
}

/**
 * Runs the cases, up to `jobs` guests at once, printing each verdict in the
 * cases' order as soon as it and every verdict before it are in. The images
 * must be in the cache already (prepareRun), or parallel guests would each
 * fetch or build the same one.
 */
export async function runCases(cases: CaseSpec[], options: RunCasesOptions, print: (line: string) => void = console.log): Promise<Verdict[]> {
  await mkdir(options.logDir, { recursive: true });
  const profile = options.profile ?? profileForQemuLabel(options.qemu.label)?.id;
  const jobs = Math.max(1, options.jobs ?? 1);
  const applies = (spec: CaseSpec) => profile === undefined || caseAppliesTo(spec, profile);
  const printer = orderedPrinter(cases.length, print);
  const verdicts = await runPool(cases, jobs, async (spec, index) => {
    if (!applies(spec)) {
      printer.ready(index, [`skipped     ${spec.name}  (about revisions ${spec.profiles?.join(', ')}, not ${profile})`]);
      return undefined;
    }
    const verdict = await runCase(spec, options);
    printer.ready(index, formatVerdict(verdict));
    return verdict;
  });
  return verdicts.filter((v): v is Verdict => v !== undefined);
}

/** Prints blocks of lines in index order: block i goes out once blocks 0…i-1 have. */
export function orderedPrinter(count: number, print: (line: string) => void): { ready(index: number, lines: string[]): void } {
  const waiting = new Map<number, string[]>();
  let next = 0;
  return {
    ready(index, lines) {
      waiting.set(index, lines);
      while (next < count && waiting.has(next)) {
        (waiting.get(next) ?? []).forEach((line) => print(line));
        waiting.delete(next);
        next += 1;
      }
    },
  };
}
