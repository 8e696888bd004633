import { join } from 'node:path';
import { loadCases } from '../case/load.ts';
import { loadCaseSetSpec, type CaseSet } from '../case/sets.ts';
import type { CaseSpec } from '../case/types.ts';
import type { Verdict } from '../core/vocabulary.ts';
import type { ProfileDecision } from '../interface/detect.ts';
import { formatTally } from '../report/console.ts';
import { writeReports } from '../report/write-all.ts';
import { decideAccelerator, type AcceleratorChoice } from '../util/accel.ts';
import { UsageError } from '../util/errors.ts';
import { exitForStatuses } from '../util/exit-codes.ts';
import { REPO_ROOT } from '../util/paths.ts';
import { decideJobsHere } from './jobs.ts';
import { prepareRun } from './prepare.ts';
import type { QemuChoice } from './resolve-qemu.ts';
import { checkResultsSpace, removePartialReports, resultsWriteError } from './results-dir.ts';
import { runCases } from './run-cases.ts';

/** What a run of cases is asked for (`run`'s and `start`'s options, --json aside). */
export interface RunOptions {
  cases: string[];
  set: string;
  qemu: QemuChoice;
  firmware?: string;
  kernel?: string;
  transport: 'unix' | 'websocket';
  /** --accel or MEMMAP_HARNESS_ACCEL; decided (auto → kvm or tcg) before any QEMU starts. */
  accel: AcceleratorChoice;
  /** --jobs; default decided from cores and free memory. */
  jobs?: number;
  profile?: string;
  results: string;
}

/**
 * Runs the cases the options name on the QEMU they choose (built or fetched
 * first), prints what was decided and the tally, writes the reports, hands
 * the verdicts to `emit` (the command's --json) and prints where the reports
 * are; returns the exit status (util/exit-codes.ts).
 */
export async function executeRun(options: RunOptions, emit?: (verdicts: Verdict[]) => Promise<void>): Promise<number> {
  // Before anything is built or started: --accel kvm on a host without KVM is one line, not a broken run.
  const accel = decideAccelerator(options.accel);
  const { set, cases } = await casesToRun(join(REPO_ROOT, 'cases'), options);
  await checkResultsSpace(options.results);
  // Printed once the input is known good: bad input stays one line.
  console.log(`accelerator: ${accel.accel} (${accel.reason})`);
  // A first run builds QEMU and the guest kernel side by side.
  const qemu = await prepareRun(options.qemu, cases, { firmware: options.firmware ?? set?.firmware, kernel: options.kernel });
  console.log(`QEMU under test: ${qemu.label} (${qemu.binary})`);
  const profile = options.profile ?? qemu.profile.id;
  console.log(`revision profile: ${profileLine(options.profile, qemu.profile)}`);
  const firmware = options.firmware ?? set?.firmware;
  if (options.firmware === undefined && firmware !== undefined) console.log(`firmware: ${firmware} (the '${options.set}' set's; --firmware ID for another)`);
  const jobs = decideJobsHere(cases, cases.length, options.jobs);
  console.log(`jobs: ${jobs.jobs} (${jobs.why})`);
  const verdicts = await runCases(cases, {
    qemu,
    jobs: jobs.jobs,
    firmware,
    kernel: options.kernel,
    transport: options.transport,
    accel: accel.accel,
    profile,
    logDir: options.results,
  });
  console.log(formatTally(verdicts));
  const reports = await writeReports(options.results, verdicts).catch(async (error: unknown) => {
    await removePartialReports(options.results);
    throw resultsWriteError(options.results, error);
  });
  if (emit) await emit(verdicts);
  console.log(`results: ${options.results}`);
  console.log(`  ${[reports.json, reports.junit, reports.markdown].map((p) => p.slice(options.results.length + 1)).join(', ')}, ${reports.svg.length} SVG memory map(s) in svg/`);
  return exitForStatuses(verdicts.map((v) => v.status));
}

/**
 * The cases a run names (its --case names, else its set's) and the set, if one
 * was used. A run of no case would exit 0 having checked nothing: a set that
 * names none is a UsageError.
 */
export async function casesToRun(casesDir: string, options: Pick<RunOptions, 'cases' | 'set'>): Promise<{ set: CaseSet | undefined; cases: CaseSpec[] }> {
  const set = options.cases.length > 0 ? undefined : await loadCaseSetSpec(casesDir, options.set);
  const names = set?.cases ?? options.cases;
  // (loadCases reads an empty list as "every case": not what an empty set means.)
  if (names.length === 0) throw new UsageError(`run: the '${options.set}' set names no case: nothing to run`, `list case names in cases/sets/${options.set}.json, or name cases with --case`);
  return { set, cases: await loadCases(casesDir, names) };
}

/** What the run decided about the revision profile and why: --profile wins; otherwise the build's series or the probe. */
function profileLine(given: string | undefined, decided: ProfileDecision): string {
  if (given === undefined) return `${decided.id ?? 'none'} (${decided.reason})`;
  if (decided.id === undefined || decided.id === given) return `${given} (--profile)`;
  return `${given} (--profile; note: ${decided.reason})`;
}
