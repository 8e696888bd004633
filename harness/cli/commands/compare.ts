import { access } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { diffRecords, differenceLines, type Difference, type SideNames } from '../../compare/diff.ts';
import { planFor } from '../../compare/plan.ts';
import { diffableRecords, exitForJudged, OBSERVED_ONLY_REPORT, prepareSides, runSides, type PlanEntry, type SideRun } from '../../compare/run-sides.ts';
import { parseSide, type LiveSide, type Side } from '../../compare/sides.ts';
import { readReportFile, type CaseRecord } from '../../compare/records.ts';
import { FIRMWARE_IDS, isFirmwareId } from '../../image/firmware.ts';
import { isKernelId, KERNEL_IDS } from '../../image/kernel.ts';
import { decideJobsHere } from '../../matrix/jobs.ts';
import { toJsonValue } from '../../parse/json.ts';
import { checkResultsSpace, newResultsDir } from '../../run/results-dir.ts';
import { acceleratorChoiceOf, decideAccelerator, type AcceleratorChoice } from '../../util/accel.ts';
import { UsageError } from '../../util/errors.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { emitJson, keepStdoutForJson, takeJsonOption, type JsonTarget } from '../json-output.ts';
import { parseJobs } from './matrix.ts';

const usage = `usage: memmap-harness compare A B [--set NAME]... [--case NAME]... [--firmware ID]... [--kernel ID]
                              [--jobs N] [--accel tcg|kvm|auto] [--transport unix|websocket]
                              [--results DIR] [--json [FILE.json]]

Runs the same cases on two QEMUs and lists, per case and configuration and per aspect
(verdict, E820 rows, SRAT entries, refusals, the guest's view, QMP), what one has that
the other does not, as rows:
  seed-reserved [q35, qboot, minimal-6.1]: SRAT entry pxm 1 [0x280000000-0x47fffffff]
      present in v5, absent in v6
Each case runs once per side and configuration; the rows come from the runs' report.json.

  A, B               each one of:
                       a revision: v5, v6, baseline, upstream-11.1 (harness/traits/traits.json)
                       a series: a directory of *.patch files or an mbox (b4 am's .mbx),
                         built on the default source like 'build --patches'
                       a qemu-system-x86_64 binary (as --qemu)
                       a source spec as --source takes it, built as it is (no series):
                         debian:…, debian-bin:…, git:…, dir:…
                       a report.json of an earlier run (read, with the observed-only.json
                         compare writes beside it; nothing boots again)
  --set NAME         a set from cases/sets/ (repeatable); default: the 'default' set
  --case NAME        a case (repeatable)
  --firmware ID      run every case on this firmware (repeatable: each case on each);
                     default: the set's firmware when it names one, else each case's own
  --kernel ID        every case on this guest kernel instead of its own (bookworm-6.1, …)
  --jobs N           guests at once across both sides (default: one per core, as memory allows)
  --accel, --transport  as for 'run'
  --results DIR      where each side's reports and serial logs go (default results/<timestamp>)
  --json [FILE]      {sides, differences, exitStatus} on stdout or to FILE
  -h, --help         show this help

Differences are information, not failures. Exit status: 0 every case ran as its side's own
revision expects (unsupported included where that revision lacks the interface), 1 a case
failed its side's expectations, 3 a build or a boot broke (and none failed), 2 usage error.`;

export interface CompareArgs {
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
  json?: JsonTarget;
  /** --case or --set given: a report side keeps only those cases. */
  filtered: boolean;
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'run the same cases on two QEMUs (revisions, series, binaries) and list what differs',
  usage,
  async run(args) {
    const options = parseCompareArgs(args);
    keepStdoutForJson(options.json);
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
    if (options.json) await emitJson(options.json, compareJson(runs, differences, names, exitStatus));
    if (live.length > 0) console.log(`results: ${options.results}`);
    return exitStatus;
  },
};

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

export function parseCompareArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CompareArgs {
  const { args, json } = takeJsonOption(argv);
  const { values, positionals } = parseCommandArgs('compare', {
    args,
    allowPositionals: true,
    options: {
      case: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      firmware: { type: 'string', multiple: true },
      kernel: { type: 'string' },
      jobs: { type: 'string' },
      accel: { type: 'string' },
      transport: { type: 'string' },
      results: { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`compare: give two sides, A and B (got ${positionals.length})`, "run 'memmap-harness compare --help'");
  const firmware = values.firmware ?? [];
  const unknown = firmware.filter((f) => !isFirmwareId(f));
  if (unknown.length > 0) throw new UsageError(`compare: unknown firmware ${unknown.join(', ')}`, `use one of ${FIRMWARE_IDS.join(', ')}`);
  if (values.kernel !== undefined && !isKernelId(values.kernel)) throw new UsageError(`compare: unknown kernel '${values.kernel}'`, `use one of ${KERNEL_IDS.join(', ')}`);
  const transport = values.transport ?? 'unix';
  if (transport !== 'unix' && transport !== 'websocket') throw new UsageError(`compare: --transport must be unix or websocket, not '${transport}'`);
  return {
    a: positionals[0] as string,
    b: positionals[1] as string,
    cases: values.case ?? [],
    sets: values.set ?? [],
    firmware,
    ...(values.kernel === undefined ? {} : { kernel: values.kernel }),
    ...(values.jobs === undefined ? {} : { jobs: parseJobs(values.jobs) }),
    accel: acceleratorChoiceOf(values.accel, env),
    transport,
    results: resolve(values.results ?? newResultsDir()),
    ...(json ? { json } : {}),
    filtered: (values.case ?? []).length > 0 || (values.set ?? []).length > 0,
  };
}
