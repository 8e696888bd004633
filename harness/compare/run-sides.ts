import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CaseSpec } from '../case/types.ts';
import type { Status, Verdict } from '../core/vocabulary.ts';
import { runPool } from '../host/pool.ts';
import { caseAppliesTo } from '../model/from-case.ts';
import { expectationsFor } from '../model/expectations.ts';
import { formatVerdict } from '../report/console.ts';
import { writeJsonReport } from '../report/json.ts';
import { writeReports } from '../report/write-all.ts';
import { prepareRun } from '../run/prepare.ts';
import { safeLabel, type ResolvedQemu } from '../run/resolve-qemu.ts';
import { runCase } from '../run/run-case.ts';
import { orderedPrinter } from '../run/run-cases.ts';
import type { Accelerator } from '../util/accel.ts';
import { recordsOfVerdicts, type CaseRecord } from './records.ts';
import type { LiveSide, Side } from './sides.ts';

/** Where a side's runs of cases about other revisions go, beside its report.json (same format). */
export const OBSERVED_ONLY_REPORT = 'observed-only.json';

/** One case on one firmware and kernel (undefined: the case's own). */
export interface PlanEntry {
  spec: CaseSpec;
  firmware?: string;
  kernel?: string;
}

/** A case run judged against what its side's own revision promises. */
export interface Judged {
  verdict: Verdict;
  /** pass also for `unsupported` where the side's revision lacks the interface (its model says so). */
  outcome: 'pass' | 'fail' | 'error';
  why?: string;
}

/** Everything one side's runs gave. */
export interface SideRun {
  side: LiveSide;
  qemu: ResolvedQemu;
  /** The revision profile its expectations came from. */
  profile: string | undefined;
  judged: Judged[];
  records: CaseRecord[];
  /** Plan entries whose case is about other revisions: run to observe, not judged. */
  notApplicable: string[];
  /** What those runs observed (refused or started, rows): material for the diff, never a verdict. */
  observedOnly: CaseRecord[];
  resultsDir: string;
}

export interface RunSidesOptions {
  jobs: number;
  accel: Accelerator;
  transport: 'unix' | 'websocket';
  resultsDir: string;
  /** Every case on this guest kernel instead of its own. */
  kernel?: string;
  print?: (line: string) => void;
}

/**
 * The QEMU of each side, built or taken from the cache, with the images every
 * plan entry boots; one side at a time (builds share one tree and every core).
 */
export async function prepareSides(sides: readonly LiveSide[], plan: readonly PlanEntry[], kernel?: string): Promise<ResolvedQemu[]> {
  const specs = plan.map((e) => ({ ...e.spec, ...(e.firmware ? { firmware: e.firmware } : {}), ...(e.kernel ? { kernel: e.kernel } : {}) }));
  const out: ResolvedQemu[] = [];
  for (const side of sides) out.push(await prepareRun(side.choice, specs, kernel === undefined ? {} : { kernel }));
  return out;
}

/**
 * Runs the plan on every side in one pool (`jobs` guests at once across the
 * sides, so the last runs of one side overlap the first of the next), each
 * case exactly once per side and configuration. Verdicts print in plan order,
 * prefixed with the side's name. Writes each side's reports into its own directory.
 */
export async function runSides(sides: readonly LiveSide[], qemus: readonly ResolvedQemu[], plan: readonly PlanEntry[], options: RunSidesOptions): Promise<SideRun[]> {
  const print = options.print ?? console.log;
  const dirs = sides.map((side, i) => join(options.resultsDir, sideDirName(side, i)));
  await Promise.all(dirs.map((dir) => mkdir(dir, { recursive: true })));
  const profiles = qemus.map((q) => q.profile.id);
  const runs = sides.flatMap((_, s) => plan.map((entry) => ({ s, entry })));
  const printer = orderedPrinter(runs.length, print);
  const shown = sides.map((side) => shortName(side.name));
  const width = Math.max(...shown.map((name) => name.length));
  const results = await runPool(runs, options.jobs, async ({ s, entry }, index) => {
    const side = sides[s] as LiveSide;
    const profile = profiles[s];
    const prefix = `${(shown[s] ?? side.name).padEnd(width)}  `;
    const verdict = await runCase(entry.spec, {
      qemu: qemus[s] as ResolvedQemu,
      ...(entry.firmware === undefined ? {} : { firmware: entry.firmware }),
      ...(options.kernel ?? entry.kernel ? { kernel: options.kernel ?? entry.kernel } : {}),
      transport: options.transport,
      accel: options.accel,
      profile,
      logDir: dirs[s] as string,
    });
    if (profile !== undefined && !caseAppliesTo(entry.spec, profile)) {
      // Not this revision's case (v6's memdev refusal on v5): what QEMU did is still the difference to show.
      printer.ready(index, [`${prefix}n/a         ${entry.spec.name}  (about revisions ${entry.spec.profiles?.join(', ')}, not ${profile}; observed: ${observation(verdict)})`]);
      return { s, observed: verdict };
    }
    printer.ready(index, formatVerdict(verdict).map((line, i) => (i === 0 ? prefix + line : `${' '.repeat(prefix.length)}${line}`)));
    return { s, judged: judge(entry.spec, verdict, profile) };
  });
  return Promise.all(
    sides.map(async (side, s) => {
      const mine = results.filter((r) => r.s === s);
      const judged = mine.flatMap((r) => ('judged' in r && r.judged ? [r.judged] : []));
      const verdicts = judged.map((j) => j.verdict);
      const observed = mine.flatMap((r) => ('observed' in r && r.observed ? [r.observed] : []));
      await writeReports(dirs[s] as string, verdicts);
      // Runs made only to observe keep their own report.json-format file: the side's report holds its verdicts only.
      if (observed.length > 0) await writeJsonReport(join(dirs[s] as string, OBSERVED_ONLY_REPORT), observed);
      return {
        side,
        qemu: qemus[s] as ResolvedQemu,
        profile: profiles[s],
        judged,
        records: recordsOfVerdicts(verdicts),
        notApplicable: observed.map((v) => v.name),
        observedOnly: recordsOfVerdicts(observed).map((r) => ({ ...r, judged: false as const })),
        resultsDir: dirs[s] as string,
      };
    }),
  );
}

/**
 * A verdict against its side's revision: `unsupported` is what a revision
 * without the interface must give (baseline for memmap-type, 10.2.2 for
 * sp-mem), and a failure on one that has it.
 */
export function judge(spec: CaseSpec, verdict: Verdict, profile: string | undefined): Judged {
  if (verdict.status === 'pass') return { verdict, outcome: 'pass' };
  if (verdict.status === 'fail') return { verdict, outcome: 'fail' };
  if (verdict.status === 'error') return { verdict, outcome: 'error', ...(verdict.reason ? { why: verdict.reason } : {}) };
  const expected = profile !== undefined && expectationsFor(spec, { machine: spec.machine, firmware: verdict.firmware, kernel: verdict.kernel, revision: profile }).kind === 'unsupported';
  return expected
    ? { verdict, outcome: 'pass', why: `unsupported, as revision ${profile} expects` }
    : { verdict, outcome: 'fail', why: `unsupported, but ${profile === undefined ? 'the revision is unknown' : `revision ${profile} has the interface`}: ${verdict.reason ?? ''}`.trim() };
}

/** One exit status for judged runs: a failure outranks a broken run (as every command ranks them). */
export function exitForJudged(judged: readonly Judged[]): number {
  const statuses: Status[] = judged.map((j) => j.outcome);
  if (statuses.includes('fail')) return 1;
  if (statuses.includes('error')) return 3;
  return 0;
}

/** What a run showed, in a few words, for a case that is not its side's to judge. */
function observation(verdict: Verdict): string {
  const refusal = verdict.observed?.refusal;
  if (refusal) return refusal.refused ? `QEMU refused: ${refusal.message ?? ''}`.trim() : 'QEMU started';
  return verdict.status === 'error' || verdict.status === 'unsupported' ? `${verdict.status}: ${verdict.reason ?? ''}`.trim() : 'booted';
}

/** The records a diff compares for a side: its judged runs and its observed-only ones. */
export function diffableRecords(run: SideRun): CaseRecord[] {
  return [...run.records, ...run.observedOnly];
}

/** A side's name as a verdict line's prefix: a long path keeps its end. */
function shortName(name: string, max = 24): string {
  return name.length <= max ? name : `…${name.slice(name.length - (max - 1))}`;
}

function sideDirName(side: Side, index: number): string {
  return `${String.fromCharCode(97 + index)}-${safeLabel(side.name.replace(/\/+$/, '').split('/').pop() ?? side.name)}`;
}
