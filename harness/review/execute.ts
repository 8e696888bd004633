import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { diffRecords } from '../compare/diff.ts';
import { diffableRecords, exitForJudged, prepareSides, runSides } from '../compare/run-sides.ts';
import { parseSide, type LiveSide } from '../compare/sides.ts';
import { cachedInterfaces } from '../interface/detect.ts';
import { buildNotes } from '../qemu-build/notes.ts';
import { decideJobsHere } from '../run/jobs.ts';
import { prepareImages } from '../run/prepare.ts';
import { checkResultsSpace } from '../run/results-dir.ts';
import { SeriesError } from '../source/series.ts';
import { DEFAULT_SOURCE_SPEC } from '../source/spec.ts';
import { decideAccelerator, type AcceleratorChoice } from '../util/accel.ts';
import { UsageError } from '../util/errors.ts';
import { formatHarnessVersion } from '../util/harness-version.ts';
import { run } from '../util/subprocess.ts';
import { reviewPlan } from './plan.ts';
import { reviewJson, reviewText, type ReviewResult } from './render.ts';
import { readSeriesMail } from './series-mail.ts';

/** What `review` is asked for: the series, what it is compared with, the Tested-by line, how the runs go. */
export interface ReviewOptions {
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
  /** The command line as review.json records it, each word shell-quoted. */
  command: string[];
}

/**
 * Applies and builds the series, probes its interface, runs the cases it can
 * run on it and on each --against side, writes review.md and review.json,
 * hands review.json to `emit` (the command's --json) and prints review.md;
 * returns the exit status.
 */
export async function executeReview(options: ReviewOptions, emit?: (json: unknown) => Promise<void>): Promise<number> {
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
    command: options.command,
    exitStatus,
  };
  if (testedBy && !everythingPassed) console.error('memmap-harness: no Tested-by line: not every run passed');
  const text = reviewText(result);
  const json = reviewJson(result);
  await mkdir(options.results, { recursive: true });
  await writeFile(join(options.results, 'review.md'), text);
  await writeFile(join(options.results, 'review.json'), `${JSON.stringify(json, null, 2)}\n`);
  if (emit) await emit(json);
  console.log('');
  console.log(text.trimEnd());
  console.log('');
  console.log(`results: ${options.results} (review.md, review.json; each side's report.json, junit.xml, summary.md, svg/)`);
  return exitStatus;
}

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
