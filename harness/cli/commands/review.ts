import { checkTestedBy, executeReview, type ReviewOptions } from '../../review/execute.ts';
import { DEFAULT_SOURCE_SPEC } from '../../source/spec.ts';
import { acceleratorChoiceOf } from '../../util/accel.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { jsonEmitter, type JsonTarget } from '../json-output.ts';
import { ACCEL_OPTION, checkFirmwareIds, checkKernelId, FIRMWARES_OPTION, jobsField, jsonField, JOBS_OPTION, KERNEL_OPTION, parseCommandLine, resultsDirOf, RESULTS_OPTION, transportOf, TRANSPORT_OPTION } from '../options.ts';

const usage = `usage: memmap-harness review SERIES [--against REF]... [--source SPEC] [--firmware ID]... [--kernel ID]
                              [--tested-by "Name <mail>" | --tested-by-git] [--jobs N]
                              [--results DIR] [--json [FILE.json]]

From a posted series to a test report for the mail reply. Applies SERIES (with the fuzz
notes 'build' gives), builds it, probes which interface it implements (memmap-type v5-like
or v6-like, -device sp-mem), picks the cases that interface can run (the seed's cases on
qboot, OVMF sid and SeaBIOS bookworm; layouts and the negative set on qboot; the sp-mem set
when it has sp-mem), runs the same on each REF, and writes review.md (plain text, lines
under 100 columns) and review.json into the results directory; review.md is also printed.

  SERIES             an mbox (b4 am's .mbx, a saved thread; the cover letter is skipped)
                     or a directory of *.patch files
  --against REF      compare with REF (repeatable): a revision (v5, v6, baseline,
                     upstream-11.1), another series, a qemu-system-x86_64, or a source
                     spec (debian:…, debian-bin:…, git:…, dir:…), as 'compare' takes them
  --source SPEC      the source the series applies to (default ${DEFAULT_SOURCE_SPEC})
  --firmware ID      run on these firmware instead (repeatable; the first is the one
                     layouts and negatives run on)
  --tested-by "Name <mail>"   add this Tested-by: line, only when every run passed
  --tested-by-git    the same with git config user.name and user.email
  --kernel ID        every case on this guest kernel instead of its own (bookworm-6.1, …)
  --jobs N           guests at once across all sides (default: one per core, as memory allows)
  --accel, --transport  as for 'run'
  --results DIR      where review.md, review.json and each side's reports go
                     (default results/<timestamp>)
  --json [FILE]      review.json on stdout or to FILE as well
  -h, --help         show this help

Exit status: 0 every case ran as its side's own revision expects (differences are
information, not failures), 1 a case failed its expectations, 3 the series does not apply
(the patch and hunk are named) or a build or boot broke, 2 usage error.`;

/** The parsed options of `review` (the command line itself aside): what it reviews, and where its JSON goes. */
export interface ReviewArgs extends Omit<ReviewOptions, 'command'> {
  json?: JsonTarget;
}

export const reviewCommand = defineCommand({
  name: 'review',
  summary: 'test a posted series (mbox or patches) and write a reply-ready review.md',
  usage,
  parse: parseReviewArgs,
  async act(options, args) {
    return executeReview({ ...options, command: ['memmap-harness', 'review', ...args].map(shellWord) }, jsonEmitter(options.json));
  },
});

/** An argument as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./,:=@+%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Parses `review`'s arguments; one HarnessError line for anything wrong. */
export function parseReviewArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReviewArgs {
  const { values, positionals, json } = parseCommandLine('review', argv, {
    against: { type: 'string', multiple: true },
    source: { type: 'string' },
    ...FIRMWARES_OPTION,
    ...KERNEL_OPTION,
    'tested-by': { type: 'string' },
    'tested-by-git': { type: 'boolean' },
    ...JOBS_OPTION,
    ...ACCEL_OPTION,
    ...TRANSPORT_OPTION,
    ...RESULTS_OPTION,
  }, true);
  if (positionals.length !== 1) throw new UsageError(`review: give one SERIES (an mbox or a directory of patches), got ${positionals.length}`, "run 'memmap-harness review --help'");
  if (values['tested-by'] !== undefined && values['tested-by-git']) throw new UsageError('review: give --tested-by or --tested-by-git, not both');
  const firmware = checkFirmwareIds('review', values.firmware);
  checkKernelId('review: ', values.kernel);
  const transport = transportOf('review', values.transport);
  return {
    series: positionals[0] as string,
    against: values.against ?? [],
    ...(values.source === undefined ? {} : { source: values.source }),
    firmware,
    ...(values.kernel === undefined ? {} : { kernel: values.kernel }),
    ...(values['tested-by'] === undefined ? {} : { testedBy: checkTestedBy(values['tested-by']) }),
    testedByGit: values['tested-by-git'] ?? false,
    ...jobsField(values.jobs),
    accel: acceleratorChoiceOf(values.accel, env),
    transport,
    results: resultsDirOf(values.results),
    ...jsonField(json),
  };
}
