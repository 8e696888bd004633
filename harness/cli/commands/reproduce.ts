import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Verdict } from '../../core/vocabulary.ts';
import { formatVerdict } from '../../report/console.ts';
import { writeReports } from '../../report/write-all.ts';
import { inputDifferences, pickRun, qemuForRun, recordedRuns, verdictDifferences, type RecordedRun } from '../../run/reproduce.ts';
import { newResultsDir } from '../../run/results-dir.ts';
import { runCase } from '../../run/run-case.ts';
import type { BackendKind, MachineType } from '../../case/types.ts';
import { UsageError } from '../../util/errors.ts';
import { EXIT } from '../../util/exit-codes.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { emitJson, keepStdoutForJson, takeJsonOption, type JsonTarget } from '../json-output.ts';

const usage = `usage: memmap-harness reproduce REPORT.json [CASE|CASE@CELL] [--qemu PATH] [--results DIR]
                                [--json [FILE.json]]

Runs one case run of a report.json again from what the report recorded alone:
the case data as it ran, the QEMU (found by its build key in this machine's
cache, or --qemu; never the binary path the report records), the firmware and
kernel (the same ids; their package versions and sha256 are compared with the
report's), the machine, backend, QMP transport and revision profile. Then
compares the verdicts. A report may come from anyone: every field is checked
first (the case data like a case file); a bad one is exit 2 naming it.

  CASE            the case name, or CASE@CELL when the report ran it in several
                  cells (as the serial log names: seed-spm@v5.q35.ovmf-sid.minimal-6.1);
                  may be left out when the report holds one run
  --qemu PATH     run this binary instead of the recorded one (default $MEMMAP_HARNESS_QEMU)
  --results DIR   where the new serial log and reports go (default results/<timestamp>)
  --json [FILE]   the comparison as JSON on stdout (human lines then go to stderr) or to FILE

Exit status: 0 the same verdict (status and every check), 1 a different verdict,
3 the run could not be made (QEMU or an image missing, QEMU would not start), 2 usage error.`;

export const reproduceCommand: Command = {
  name: 'reproduce',
  summary: "re-run one case run of a report.json from the report alone and compare verdicts",
  usage,
  async run(args) {
    const options = parseReproduceArgs(args);
    keepStdoutForJson(options.json);
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
    if (options.json) await emitJson(options.json, { run: run.stem, report: options.report, recorded: run.status, now: now.status, reproduced: differences.length === 0, differences, inputDifferences: inputNotes, qemuNotes: notes, results: options.results });
    if (differences.length === 0) return EXIT.ok;
    return now.status === 'error' ? EXIT.infrastructure : EXIT.failed;
  },
};

function printOutcome(run: RecordedRun, now: Verdict, differences: readonly string[], results: string): void {
  if (differences.length === 0) console.log(`REPRODUCED ${run.stem}: ${now.status}, as the report says (every check the same)`);
  else {
    console.log(`DIFFERS ${run.stem}: ${run.status} in the report, ${now.status} now`);
    for (const d of differences) console.log(`  ${d}`);
  }
  console.log(`results: ${results}`);
}

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

interface ReproduceArgs {
  report: string;
  selector?: string;
  qemu?: string;
  results: string;
  json?: JsonTarget;
}

function parseReproduceArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReproduceArgs {
  const { args, json } = takeJsonOption(argv);
  const parsed = parseCommandArgs('reproduce', { args, allowPositionals: true, options: { qemu: { type: 'string' }, results: { type: 'string' } } });
  const [report, selector, ...extra] = parsed.positionals;
  if (!report || extra.length > 0) throw new UsageError('reproduce: give REPORT.json and at most one CASE', "run 'memmap-harness reproduce --help'");
  const qemu = parsed.values.qemu ?? (env.MEMMAP_HARNESS_QEMU || undefined);
  return {
    report: resolve(report),
    ...(selector ? { selector } : {}),
    ...(qemu ? { qemu: resolve(qemu) } : {}),
    results: resolve(parsed.values.results ?? newResultsDir()),
    ...(json ? { json } : {}),
  };
}
