import { mkdir, readFile } from 'node:fs/promises';
import type { BackendKind, MachineType } from '../case/types.ts';
import type { Verdict } from '../core/vocabulary.ts';
import { formatVerdict } from '../report/console.ts';
import { writeReports } from '../report/write-all.ts';
import { UsageError } from '../util/errors.ts';
import { EXIT } from '../util/exit-codes.ts';
import { inputDifferences, pickRun, qemuForRun, recordedRuns, verdictDifferences, type RecordedRun } from './reproduce.ts';
import { runCase } from './run-case.ts';

/** What `reproduce` is asked for: the report, which of its runs, an optional QEMU in place of the recorded one, and where the new run goes. */
export interface ReproduceOptions {
  report: string;
  selector?: string;
  qemu?: string;
  results: string;
}

/**
 * Runs one recorded run of a report.json again from the report alone (its
 * fields checked first), prints both verdicts and what differs, hands the
 * comparison to `emit` (the command's --json) and returns the exit status:
 * 0 the same verdict, 1 another, 3 when the new run broke.
 */
export async function executeReproduce(options: ReproduceOptions, emit?: (json: unknown) => Promise<void>): Promise<number> {
  const report = await readReport(options.report);
  const run = pickRun(recordedRuns(report, options.report), options.selector, options.report);
  console.log(`reproducing ${run.stem} (${run.status} in ${options.report})`);
  const { qemu, notes } = await qemuForRun(run, options.qemu);
  console.log(`  QEMU ${qemu.version ?? '?'}: ${qemu.binary}${run.qemu.buildKey ? ` (build ${run.qemu.buildKey.slice(0, 16)}…)` : ''}`);
  const inputNotes = await inputDifferences(run);
  for (const line of [...notes, ...inputNotes]) console.log(`  ${line}`);
  if (inputNotes.length === 0) console.log(`  inputs: the report's kernel and firmware packages (same versions and sha256)`);
  await mkdir(options.results, { recursive: true });
  const now = await runCase(run.caseSpec, {
    qemu,
    machine: run.machine as MachineType,
    firmware: run.firmware,
    kernel: run.kernel,
    ...(run.backend ? { backend: run.backend as BackendKind } : {}),
    transport: run.transport,
    ...(run.profile ? { profile: run.profile } : {}),
    logDir: options.results,
  });
  formatVerdict(now).forEach((line) => console.log(`  ${line}`));
  await writeReports(options.results, [now]);
  const differences = verdictDifferences(run, now);
  printOutcome(run, now, differences, options.results);
  if (emit) await emit({ run: run.stem, report: options.report, recorded: run.status, now: now.status, reproduced: differences.length === 0, differences, inputDifferences: inputNotes, qemuNotes: notes, results: options.results });
  if (differences.length === 0) return EXIT.ok;
  return now.status === 'error' ? EXIT.infrastructure : EXIT.failed;
}

/** REPRODUCED or DIFFERS with each difference, then where the new run's files are. */
function printOutcome(run: RecordedRun, now: Verdict, differences: readonly string[], results: string): void {
  if (differences.length === 0) console.log(`REPRODUCED ${run.stem}: ${now.status}, as the report says (every check the same)`);
  else {
    console.log(`DIFFERS ${run.stem}: ${run.status} in the report, ${now.status} now`);
    for (const d of differences) console.log(`  ${d}`);
  }
  console.log(`results: ${results}`);
}

/** The report as JSON; a file that cannot be read or is not JSON is a UsageError (the command line named it). */
async function readReport(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`reproduce: cannot read ${path}: ${error.code ?? error.message}`, 'give the report.json of a run');
  });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`reproduce: ${path} is not JSON`, 'give the report.json of a run');
  }
}
