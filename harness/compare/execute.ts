import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { toJsonValue } from '../parse/json.ts';
import { decideJobsHere } from '../run/jobs.ts';
import { checkResultsSpace } from '../run/results-dir.ts';
import { decideAccelerator, type AcceleratorChoice } from '../util/accel.ts';
import { diffRecords, differenceLines, type Difference, type SideNames } from './diff.ts';
import { planFor } from './plan.ts';
import { readReportFile, type CaseRecord } from './records.ts';
import { diffableRecords, exitForJudged, OBSERVED_ONLY_REPORT, prepareSides, runSides, type PlanEntry, type SideRun } from './run-sides.ts';
import { parseSide, type LiveSide, type Side } from './sides.ts';

/** What `compare` is asked for: the two sides as given, the plan's cases, sets and firmware, and how the runs go. */
export interface CompareOptions {
  a: string;
  b: string;
  cases: string[];
  sets: string[];
  firmware: string[];
  kernel?: string;
  jobs?: number;
  accel: AcceleratorChoice;
  transport: 'unix' | 'websocket';
  results: string;
  /** --case or --set given: a report side keeps only those cases. */
  filtered: boolean;
}

/**
 * Runs (or reads) both sides on one plan, prints the differences, hands
 * compare's JSON to `emit` (the command's --json) and returns the exit status:
 * a failure outranks a broken run, which outranks success.
 */
export async function executeCompare(options: CompareOptions, emit?: (json: unknown) => Promise<void>): Promise<number> {
  const accel = decideAccelerator(options.accel);
  const sides = [await parseSide(options.a), await parseSide(options.b)];
  const plan = await planFor(options);
  const live = sides.filter((s): s is LiveSide => s.kind !== 'report');
  if (live.length > 0) {
    await checkResultsSpace(options.results);
    console.log(`accelerator: ${accel.accel} (${accel.reason})`);
  }
  const runs = live.length > 0 ? await compareSides(live, plan, { jobs: options.jobs, accel: accel.accel, transport: options.transport, results: options.results, ...(options.kernel ? { kernel: options.kernel } : {}) }) : [];
  const wanted = new Set(plan.map((e) => e.spec.name));
  const recordsOf = async (side: Side): Promise<CaseRecord[]> => {
    if (side.kind === 'report') return (await readSavedSide(side.report)).filter((r) => !options.filtered || wanted.has(r.name));
    const run = runs.find((r) => r.side === side);
    return run ? diffableRecords(run) : [];
  };
  const [recordsA, recordsB] = [await recordsOf(sides[0] as Side), await recordsOf(sides[1] as Side)];
  const differences = diffRecords(recordsA, recordsB);
  const names = { a: sides[0]?.name ?? 'A', b: sides[1]?.name ?? 'B' };
  printDifferences(differences, names);
  // A report's verdicts count as its run decided them; live runs are judged against their side's revision.
  const reported = sides.flatMap((s, i) => (s.kind === 'report' ? (i === 0 ? recordsA : recordsB) : [])).filter((r) => r.judged !== false);
  const exitStatus = combineExits([exitForJudged(runs.flatMap((r) => r.judged)), exitForRecorded(reported)]);
  if (emit) await emit(compareJson(runs, differences, names, exitStatus));
  if (live.length > 0) console.log(`results: ${options.results}`);
  return exitStatus;
}

/** Builds (or takes from the cache) each side's QEMU and runs the plan on both, printing what each side is. */
export async function compareSides(sides: LiveSide[], plan: PlanEntry[], options: { jobs?: number; accel: 'tcg' | 'kvm'; transport: 'unix' | 'websocket'; results: string; kernel?: string }): Promise<SideRun[]> {
  const qemus = await prepareSides(sides, plan, options.kernel);
  sides.forEach((side, i) => {
    const q = qemus[i];
    if (q) console.log(`${side.name}: ${q.label} (${q.binary}), revision profile ${q.profile.id ?? 'none'} (${q.profile.reason})`);
  });
  const jobs = decideJobsHere(plan.map((e) => e.spec), plan.length * sides.length, options.jobs);
  console.log(`jobs: ${jobs.jobs} (${jobs.why})`);
  return runSides(sides, qemus, plan, { jobs: jobs.jobs, accel: options.accel, transport: options.transport, resultsDir: options.results, ...(options.kernel ? { kernel: options.kernel } : {}) });
}

/** A saved side: its report.json, and the unjudged runs compare kept beside it (observed-only.json), if any. */
async function readSavedSide(report: string): Promise<CaseRecord[]> {
  const beside = join(dirname(report), OBSERVED_ONLY_REPORT);
  const observed = basename(report) === 'report.json' && (await access(beside).then(() => true, () => false)) ? await readReportFile(beside) : [];
  return [...(await readReportFile(report)), ...observed.map((r) => ({ ...r, judged: false as const }))];
}

/** A saved report's verdicts: 1 for a failure, 3 for a broken run, else 0. */
function exitForRecorded(records: readonly CaseRecord[]): number {
  return records.some((r) => r.status === 'fail') ? 1 : records.some((r) => r.status === 'error') ? 3 : 0;
}

/** A failure outranks a broken run, which outranks success. */
function combineExits(statuses: readonly number[]): number {
  return statuses.includes(1) ? 1 : statuses.includes(3) ? 3 : 0;
}

/** The differences as rows, or the one line saying there are none. */
function printDifferences(differences: Difference[], names: SideNames): void {
  const lines = differenceLines(differences, names);
  console.log(lines.length === 0 ? `no differences between ${names.a} and ${names.b}` : `${lines.length} difference(s) between ${names.a} and ${names.b}:`);
  for (const line of lines) console.log(`  ${line}`);
}

/** compare's JSON: each side's QEMU, profile and case outcomes; the differences as data and as rows. */
export function compareJson(runs: SideRun[], differences: Difference[], names: SideNames, exitStatus: number): unknown {
  return toJsonValue({
    sides: runs.map((r) => ({
      name: r.side.name,
      kind: r.side.kind,
      qemu: { label: r.qemu.label, binary: r.qemu.binary, version: r.qemu.version },
      profile: r.profile,
      resultsDir: r.resultsDir,
      cases: r.judged.map((j) => ({ name: j.verdict.name, machine: j.verdict.machine, firmware: j.verdict.firmware, kernel: j.verdict.kernel, status: j.verdict.status, outcome: j.outcome, why: j.why ?? j.verdict.reason })),
      notApplicable: r.notApplicable,
    })),
    differences: differences.map((d) => ({ ...d })),
    differenceLines: differenceLines(differences, names),
    exitStatus,
  });
}
