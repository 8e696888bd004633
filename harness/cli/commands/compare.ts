import { executeCompare, type CompareOptions } from '../../compare/execute.ts';
import { acceleratorChoiceOf } from '../../util/accel.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { jsonEmitter, type JsonTarget } from '../json-output.ts';
import { ACCEL_OPTION, CASE_OPTION, checkFirmwareIds, checkKernelId, FIRMWARES_OPTION, jobsField, jsonField, JOBS_OPTION, KERNEL_OPTION, parseCommandLine, resultsDirOf, RESULTS_OPTION, transportOf, TRANSPORT_OPTION } from '../options.ts';

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

/** The parsed options of `compare`: what it compares, and where its JSON goes. */
export interface CompareArgs extends CompareOptions {
  json?: JsonTarget;
}

export const compareCommand = defineCommand({
  name: 'compare',
  summary: 'run the same cases on two QEMUs (revisions, series, binaries) and list what differs',
  usage,
  parse: parseCompareArgs,
  async act(options) {
    return executeCompare(options, jsonEmitter(options.json));
  },
});

/** Parses `compare`'s arguments; one HarnessError line for anything wrong. */
export function parseCompareArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CompareArgs {
  const { values, positionals, json } = parseCommandLine('compare', argv, {
    ...CASE_OPTION,
    set: { type: 'string', multiple: true },
    ...FIRMWARES_OPTION,
    ...KERNEL_OPTION,
    ...JOBS_OPTION,
    ...ACCEL_OPTION,
    ...TRANSPORT_OPTION,
    ...RESULTS_OPTION,
  }, true);
  if (positionals.length !== 2) throw new UsageError(`compare: give two sides, A and B (got ${positionals.length})`, "run 'memmap-harness compare --help'");
  const firmware = checkFirmwareIds('compare', values.firmware);
  checkKernelId('compare: ', values.kernel);
  const transport = transportOf('compare', values.transport);
  return {
    a: positionals[0] as string,
    b: positionals[1] as string,
    cases: values.case ?? [],
    sets: values.set ?? [],
    firmware,
    ...(values.kernel === undefined ? {} : { kernel: values.kernel }),
    ...jobsField(values.jobs),
    accel: acceleratorChoiceOf(values.accel, env),
    transport,
    results: resultsDirOf(values.results),
    ...jsonField(json),
    filtered: (values.case ?? []).length > 0 || (values.set ?? []).length > 0,
  };
}
