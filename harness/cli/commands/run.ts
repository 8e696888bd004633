import { join, resolve } from 'node:path';
import { loadCases } from '../../case/load.ts';
import { loadCaseSetSpec, type CaseSet } from '../../case/sets.ts';
import type { CaseSpec } from '../../case/types.ts';
import { decideJobsHere } from '../../matrix/jobs.ts';
import { parseJobs } from './matrix.ts';
import { REPO_ROOT } from '../../util/paths.ts';
import { formatTally } from '../../report/console.ts';
import { verdictsToJson } from '../../report/json.ts';
import { writeReports } from '../../report/write-all.ts';
import type { Verdict } from '../../core/vocabulary.ts';
import { newResultsDir, checkResultsSpace, removePartialReports, resultsWriteError } from '../../run/results-dir.ts';
import type { ProfileDecision } from '../../interface/detect.ts';
import { prepareRun } from '../../run/prepare.ts';
import type { QemuChoice } from '../../run/resolve-qemu.ts';
import { runCases } from '../../run/run-cases.ts';
import { FIRMWARE_IDS, isFirmwareId } from '../../image/firmware.ts';
import { isKernelId, KERNEL_IDS } from '../../image/kernel.ts';
import { allCaseNames } from '../../matrix/execute.ts';
import { UsageError } from '../../util/errors.ts';
import { acceleratorChoiceOf, decideAccelerator, type AcceleratorChoice } from '../../util/accel.ts';
import { exitForStatuses } from '../../util/exit-codes.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { emitJson, keepStdoutForJson, takeJsonOption, type JsonTarget } from '../json-output.ts';

const usage = `usage: memmap-harness run [--case NAME]... [--set NAME] [QEMU] [--firmware ID] [--kernel ID]
                          [--transport unix|websocket] [--accel tcg|kvm|auto] [--jobs N]
                          [--json [FILE.json]] [--results DIR]

Boots each case's guest, queries QMP, parses the serial log and prints a verdict
per case: pass, fail (with a row diff), error, or unsupported (QEMU lacks memmap-type,
or -device sp-mem for an sp-mem case).

  --case NAME        a case from cases/ (repeatable); default: the 'default' set
  --set NAME         a set from cases/sets/ (default: default)
  QEMU, one of:
    --qemu PATH      an existing qemu-system-x86_64 (default: $MEMMAP_HARNESS_QEMU when set
                     and none of --source/--patches/--no-patches is given)
    --source SPEC    build from debian:PKG=VER, git:URL#REF or a local tree (default Debian's 10.2.2),
                     or Debian's prebuilt QEMU: debian-bin:PKG[=VER][@SUITE] (no patches)
    --patches DIR    series to apply (directory of .patch files or an mbox; default patches/memmap-type/v5)
    --no-patches     the unpatched baseline
  --firmware ID      run on this firmware instead of each case's own (ovmf-sid, seabios-bookworm, qboot, …);
                     default: the set's firmware if it names one (the default set: qboot), else each case's own
  --kernel ID        run on this kernel instead of each case's own (bookworm-6.1, trixie-6.12, sid-7.2)
  --transport T      QMP over a UNIX socket (default) or WebSocket (on a UNIX socket too)
  --accel A          tcg (default, or $MEMMAP_HARNESS_ACCEL), kvm (a usable /dev/kvm or exit 3 before
                     any QEMU starts) or auto (kvm when /dev/kvm opens read-write, else tcg; printed
                     with the reason). KVM verdicts are never 'pass' until the KVM model is verified
  --jobs N           guests at once (default: one per core, as many as free memory holds; printed);
                     verdicts are printed in case order either way
  --profile ID       revision the QEMU implements (v5, v6, baseline, upstream-11.1: harness/traits/traits.json);
                     default: implied by a build, or probed from the binary (printed with the reason)
  --json [FILE]      the JSON report (as report.json) on stdout (verdicts then go to stderr) or to FILE
  --results DIR      where serial logs and reports go (default results/<timestamp>)
  -h, --help         show this help

Exit status: 0 all passed, 1 a case failed, 3 a run broke (QEMU would not start, guest hung)
and none failed, 4 some cases unsupported and none failed or broke; 2 usage error.`;

/** The parsed options of \`run\` (also what \`start\` runs with). */
export interface RunArgs {
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
  json?: JsonTarget;
  results: string;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run cases against a QEMU and print verdicts',
  usage,
  async run(args) {
    return executeRun(await checkRunNames(parseRunArgs(args)));
  },
};

/** Runs the cases a RunArgs names, writes the reports, prints the tally; returns the exit status. */
export async function executeRun(options: RunArgs): Promise<number> {
  keepStdoutForJson(options.json);
  // Before anything is built or started: --accel kvm on a host without KVM is one line, not a broken run.
  const accel = decideAccelerator(options.accel);
  const casesDir = join(REPO_ROOT, 'cases');
  const { set, cases } = await casesToRun(casesDir, options);
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
  if (options.json) await emitJson(options.json, verdictsToJson(verdicts));
  console.log(`results: ${options.results}`);
  console.log(`  ${[reports.json, reports.junit, reports.markdown].map((p) => p.slice(options.results.length + 1)).join(', ')}, ${reports.svg.length} SVG memory map(s) in svg/`);
  return exitForStatuses(verdicts.map((v) => v.status));
}


/**
 * The cases a run names (its --case names, else its set's) and the set, if one
 * was used. A run of no case would exit 0 having checked nothing: a set that
 * names none is a UsageError.
 */
export async function casesToRun(casesDir: string, options: Pick<RunArgs, 'cases' | 'set'>): Promise<{ set: CaseSet | undefined; cases: CaseSpec[] }> {
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

/** Parses \`run\`'s arguments; one HarnessError line for anything wrong. */
export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RunArgs {
  const { args, json } = takeJsonOption(argv);
  const { values } = parseCommandArgs('run', {
    args,
    allowPositionals: false,
    options: {
      case: { type: 'string', multiple: true },
      set: { type: 'string' },
      qemu: { type: 'string' },
      source: { type: 'string' },
      patches: { type: 'string' },
      'no-patches': { type: 'boolean' },
      firmware: { type: 'string' },
      kernel: { type: 'string' },
      transport: { type: 'string' },
      accel: { type: 'string' },
      jobs: { type: 'string' },
      profile: { type: 'string' },
      results: { type: 'string' },
    },
  });
  if (values.qemu && (values.source || values.patches || values['no-patches'])) {
    throw new UsageError('run: --qemu names a binary; it cannot be combined with --source, --patches or --no-patches');
  }
  if (values.patches && values['no-patches']) throw new UsageError('run: give --patches or --no-patches, not both');
  const transport = values.transport ?? 'unix';
  if (transport !== 'unix' && transport !== 'websocket') throw new UsageError(`run: --transport must be unix or websocket, not '${transport}'`);
  if (values.firmware !== undefined && !isFirmwareId(values.firmware)) throw new UsageError(`run: unknown firmware '${values.firmware}'`, `use one of ${FIRMWARE_IDS.join(', ')}`);
  if (values.kernel !== undefined && !isKernelId(values.kernel)) throw new UsageError(`run: unknown kernel '${values.kernel}'`, `use one of ${KERNEL_IDS.join(', ')}`);
  // MEMMAP_HARNESS_QEMU stands for --qemu unless the command line chose a QEMU itself.
  const chosen = values.qemu ?? (values.source || values.patches || values['no-patches'] ? undefined : env.MEMMAP_HARNESS_QEMU || undefined);
  const qemu: QemuChoice = chosen
    ? { binary: chosen }
    : { ...(values.source ? { source: values.source } : {}), ...(values['no-patches'] ? { patches: null } : values.patches ? { patches: resolve(values.patches) } : {}) };
  return {
    cases: values.case ?? [],
    set: values.set ?? 'default',
    qemu,
    firmware: values.firmware,
    kernel: values.kernel,
    transport,
    accel: acceleratorChoiceOf(values.accel, env),
    ...(values.jobs === undefined ? {} : { jobs: parseJobs(values.jobs) }),
    profile: values.profile,
    ...(json ? { json } : {}),
    results: resolve(values.results ?? newResultsDir()),
  };
}

/** A case name that does not exist is a usage error (2), found before anything is built. */
async function checkRunNames(options: RunArgs): Promise<RunArgs> {
  const known = await allCaseNames();
  const unknown = options.cases.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UsageError(`run: no case named ${unknown.join(', ')}`, `cases: ${known.join(', ')}`);
  return options;
}
