import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { diffRecords } from '../../compare/diff.ts';
import { diffableRecords, exitForJudged, prepareSides, runSides } from '../../compare/run-sides.ts';
import { parseSide, type LiveSide } from '../../compare/sides.ts';
import { FIRMWARE_IDS, isFirmwareId } from '../../image/firmware.ts';
import { isKernelId, KERNEL_IDS } from '../../image/kernel.ts';
import { decideJobsHere } from '../../matrix/jobs.ts';
import { cachedInterfaces } from '../../interface/detect.ts';
import { reviewPlan } from '../../review/plan.ts';
import { reviewJson, reviewText, type ReviewResult } from '../../review/render.ts';
import { readSeriesMail } from '../../review/series-mail.ts';
import { prepareImages } from '../../run/prepare.ts';
import { checkResultsSpace, newResultsDir } from '../../run/results-dir.ts';
import { DEFAULT_SOURCE_SPEC } from '../../source/spec.ts';
import { SeriesError } from '../../source/series.ts';
import { acceleratorChoiceOf, decideAccelerator, type AcceleratorChoice } from '../../util/accel.ts';
import { UsageError } from '../../util/errors.ts';
import { formatHarnessVersion } from '../../util/harness-version.ts';
import { run } from '../../util/subprocess.ts';
import { parseCommandArgs, type Command } from '../command.ts';
import { emitJson, keepStdoutForJson, takeJsonOption, type JsonTarget } from '../json-output.ts';
import { buildNotes } from './build.ts';
import { parseJobs } from './matrix.ts';

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

export interface ReviewArgs {
  series: string;
  against: string[];
  source?: string;
  firmware: string[];
  kernel?: string;
  testedBy?: string;
  testedByGit: boolean;
  jobs?: number;
  accel: AcceleratorChoice;
  transport: 'unix' | 'websocket';
  results: string;
  json?: JsonTarget;
}

export const reviewCommand: Command = {
  name: 'review',
  summary: 'test a posted series (mbox or patches) and write a reply-ready review.md',
  usage,
  async run(args) {
    const options = parseReviewArgs(args);
    keepStdoutForJson(options.json);
    const accel = decideAccelerator(options.accel);
    const seriesPath = resolve(options.series);
    // A SERIES that is not there is the command line's fault (2); one that holds no patch is bad input too.
    const mail = await readSeriesMail(seriesPath).catch((error: unknown) => {
      throw error instanceof SeriesError ? new UsageError(`review: ${error.message}`, error.hint) : error;
    });
    const testedBy = options.testedBy ?? (options.testedByGit ? await gitIdentity() : undefined);
    const refs: LiveSide[] = [];
    for (const ref of options.against) {
      const side = await parseSide(ref);
      if (side.kind === 'report') throw new UsageError(`review: --against ${ref} is a report; a review runs its cases on each REF`, 'give a revision, series, binary or source spec (or use compare for saved reports)');
      refs.push(side);
    }
    await checkResultsSpace(options.results);
    console.log(`accelerator: ${accel.accel} (${accel.reason})`);
    console.log(`series: ${mail.subject} (${mail.patches.length} patches)`);

    // The series first: one that does not apply stops here (exit 3, naming the patch and hunk).
    const seriesSide: LiveSide = { name: options.series, kind: 'series', choice: { ...(options.source ? { source: options.source } : {}), patches: seriesPath } };
    const [seriesQemu] = await prepareSides([seriesSide], []);
    if (!seriesQemu) throw new Error('unreachable: no QEMU for the series');
    const applyNotes = buildNotes(seriesQemu.build ?? { base: null });
    for (const note of applyNotes) console.error(`memmap-harness: ${note}`);
    const probed = await cachedInterfaces(seriesQemu.binary, seriesQemu.firmwareDirs);
    console.log(`interface: ${probed.summary} → profile ${probed.profile ?? 'none'}`);
    const plan = await reviewPlan(probed, options.firmware.length > 0 ? options.firmware : undefined, probed.profile);
    await prepareImages(plan.entries.map((e) => ({ ...e.spec, ...(e.firmware ? { firmware: e.firmware } : {}), ...(e.kernel ? { kernel: e.kernel } : {}) })), options.kernel ? { kernel: options.kernel } : {});
    const refQemus = await prepareSides(refs, plan.entries, options.kernel);
    const sides = [seriesSide, ...refs];
    const qemus = [{ ...seriesQemu, profile: { id: probed.profile ?? seriesQemu.profile.id, reason: seriesQemu.profile.reason } }, ...refQemus];
    sides.forEach((side, i) => console.log(`${side.name}: ${qemus[i]?.label} (${qemus[i]?.binary}), revision ${qemus[i]?.profile.id ?? 'unknown'}`));
    const jobs = decideJobsHere(plan.entries.map((e) => e.spec), plan.entries.length * sides.length, options.jobs);
    console.log(`jobs: ${jobs.jobs} (${jobs.why})`);
    const [seriesRun, ...refRuns] = await runSides(sides, qemus, plan.entries, { jobs: jobs.jobs, accel: accel.accel, transport: options.transport, resultsDir: options.results, ...(options.kernel ? { kernel: options.kernel } : {}) });
    if (!seriesRun) throw new Error('unreachable: no runs for the series');

    const all = [seriesRun, ...refRuns].flatMap((r) => r.judged);
    const exitStatus = exitForJudged(all);
    const everythingPassed = all.length > 0 && all.every((j) => j.outcome === 'pass');
    const result: ReviewResult = {
      series: { path: seriesPath, name: options.series, mail },
      appliedTo: `${options.source ?? DEFAULT_SOURCE_SPEC}${seriesQemu.version ? ` (QEMU ${seriesQemu.version})` : ''}`,
      applyNotes,
      interface: { summary: probed.summary, profile: probed.profile, profileReason: probed.profileReason, qemuVersion: probed.qemuVersion, interfaces: probed.interfaces },
      plan,
      runs: { series: seriesRun, refs: refRuns },
      differences: refRuns.map((ref) => ({ against: ref.side.name, rows: diffRecords(diffableRecords(seriesRun), diffableRecords(ref)) })),
      ...(testedBy && everythingPassed ? { testedBy } : {}),
      harness: formatHarnessVersion().replace(/^memmap-harness\s+/, ''),
      command: ['memmap-harness', 'review', ...args].map(shellWord),
      exitStatus,
    };
    if (testedBy && !everythingPassed) console.error('memmap-harness: no Tested-by line: not every run passed');
    const text = reviewText(result);
    const json = reviewJson(result);
    await mkdir(options.results, { recursive: true });
    await writeFile(join(options.results, 'review.md'), text);
    await writeFile(join(options.results, 'review.json'), `${JSON.stringify(json, null, 2)}\n`);
    if (options.json) await emitJson(options.json, json);
    console.log('');
    console.log(text.trimEnd());
    console.log('');
    console.log(`results: ${options.results} (review.md, review.json; each side's report.json, junit.xml, summary.md, svg/)`);
    return exitStatus;
  },
};

/** `Name <mail>` from git config user.name and user.email; a UsageError when either is unset. */
async function gitIdentity(): Promise<string> {
  const get = async (key: string) => (await run('git', ['config', key], { timeoutMs: 10_000 })).stdout.trim();
  const [name, email] = [await get('user.name'), await get('user.email')];
  if (!name || !email) throw new UsageError('review: --tested-by-git needs git config user.name and user.email', 'set them, or give --tested-by "Name <mail>"');
  return checkTestedBy(`${name} <${email}>`);
}

/** A Tested-by value must be `Name <address>` on one line: it goes into a mail as it is. */
export function checkTestedBy(value: string): string {
  if (!/^[^<>\r\n]+ <[^<>\s@]+@[^<>\s]+>$/.test(value.trim())) throw new UsageError(`review: --tested-by '${value}' is not "Name <mail>"`, 'e.g. --tested-by "Jane Doe <jane@example.org>"');
  return value.trim();
}

/** An argument as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./,:=@+%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function parseReviewArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReviewArgs {
  const { args, json } = takeJsonOption(argv);
  const { values, positionals } = parseCommandArgs('review', {
    args,
    allowPositionals: true,
    options: {
      against: { type: 'string', multiple: true },
      source: { type: 'string' },
      firmware: { type: 'string', multiple: true },
      kernel: { type: 'string' },
      'tested-by': { type: 'string' },
      'tested-by-git': { type: 'boolean' },
      jobs: { type: 'string' },
      accel: { type: 'string' },
      transport: { type: 'string' },
      results: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`review: give one SERIES (an mbox or a directory of patches), got ${positionals.length}`, "run 'memmap-harness review --help'");
  if (values['tested-by'] !== undefined && values['tested-by-git']) throw new UsageError('review: give --tested-by or --tested-by-git, not both');
  const firmware = values.firmware ?? [];
  const unknown = firmware.filter((f) => !isFirmwareId(f));
  if (unknown.length > 0) throw new UsageError(`review: unknown firmware ${unknown.join(', ')}`, `use one of ${FIRMWARE_IDS.join(', ')}`);
  if (values.kernel !== undefined && !isKernelId(values.kernel)) throw new UsageError(`review: unknown kernel '${values.kernel}'`, `use one of ${KERNEL_IDS.join(', ')}`);
  const transport = values.transport ?? 'unix';
  if (transport !== 'unix' && transport !== 'websocket') throw new UsageError(`review: --transport must be unix or websocket, not '${transport}'`);
  return {
    series: positionals[0] as string,
    against: values.against ?? [],
    ...(values.source === undefined ? {} : { source: values.source }),
    firmware,
    ...(values.kernel === undefined ? {} : { kernel: values.kernel }),
    ...(values['tested-by'] === undefined ? {} : { testedBy: checkTestedBy(values['tested-by']) }),
    testedByGit: values['tested-by-git'] ?? false,
    ...(values.jobs === undefined ? {} : { jobs: parseJobs(values.jobs) }),
    accel: acceleratorChoiceOf(values.accel, env),
    transport,
    results: resolve(values.results ?? newResultsDir()),
    ...(json ? { json } : {}),
  };
}
