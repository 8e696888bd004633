// Flake count of the whole suite (a script, not a test): clones the committed
// tree into a temp dir, as a new user or CI gets it, runs `npm test` there N
// times, optionally with every core also kept busy by another process, and
// prints per test file how often it failed and how long it took. The default
// set's sibling is scripts/flake.ts.
// A failed run's vitest JSON report and output are kept under
// results/flake-suite-<time>/ so a flake can be diagnosed.
// Usage: npx tsx scripts/flake-suite.ts [--runs N] [--hog [N]] [--ref REF]
//   --hog       one busy process per core beside the suite (`--hog 1`: one)
//   --ref REF   the commit to clone (default HEAD)
import { execa, type ResultPromise } from 'execa';
import { availableParallelism } from 'node:os';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string' }, hog: { type: 'string' }, ref: { type: 'string' } }, allowPositionals: false, strict: false });
const runs = wholeNumber('--runs', values.runs ?? '3');
const hogs = values.hog === undefined ? 0 : values.hog === true ? availableParallelism() : wholeNumber('--hog', String(values.hog));
const ref = typeof values.ref === 'string' ? values.ref : 'HEAD';

function wholeNumber(flag: string, text: string | boolean): number {
  const n = Number(text);
  if (typeof text !== 'string' || !Number.isInteger(n) || n < 1) {
    console.error(`flake-suite: ${flag} must be a positive whole number, not '${String(text)}'`);
    process.exit(2);
  }
  return n;
}

/** What vitest's json reporter says of one test file. */
interface FileResult {
  name: string;
  status: string;
  startTime: number;
  endTime: number;
  message?: string;
  assertionResults: { fullName: string; status: string }[];
}

/** One test file over all runs. */
interface Tally {
  failed: number;
  ran: number;
  seconds: number[];
  failedTests: Set<string>;
}

const tallies = new Map<string, Tally>();
const keptRoot = join(REPO, 'results', `flake-suite-${new Date().toISOString().replace(/[:.]/g, '-')}`);
const work = await mkdtemp(join(tmpdir(), 'memmap-flake-suite-'));
const busy: ResultPromise[] = [];
const stopHogs = () => {
  for (const hog of busy) hog.kill('SIGKILL');
};
process.once('SIGINT', () => {
  stopHogs();
  process.exit(130);
});

try {
  const clone = join(work, 'clone');
  await execa('git', ['clone', '--quiet', REPO, clone], { timeout: 300_000 });
  await execa('git', ['-C', clone, 'checkout', '--quiet', ref], { timeout: 60_000 });
  const commit = (await execa('git', ['-C', clone, 'rev-parse', '--short', 'HEAD'])).stdout;
  console.log(`flake-suite: ${runs} run(s) of npm test on ${commit} in a fresh clone${hogs ? `, with ${hogs} busy process(es) beside it` : ''}`);
  for (let i = 0; i < hogs; i++) busy.push(execa('yes', [], { stdout: 'ignore', reject: false }));
  const summary: string[] = [];
  for (let run = 1; run <= runs; run++) summary.push(await oneRun(clone, run));
  stopHogs();
  printTable();
  for (const line of summary) console.log(line);
} finally {
  stopHogs();
  await rm(work, { recursive: true, force: true });
}

/** One `npm test` in the clone; returns its one-line summary. */
async function oneRun(clone: string, run: number): Promise<string> {
  const json = join(work, `run-${run}.json`);
  const started = Date.now();
  const result = await execa('npm', ['test', '--', '--reporter=dot', '--reporter=json', `--outputFile.json=${json}`], { cwd: clone, reject: false, all: true, timeout: 3 * 3600_000 });
  const wall = Math.round((Date.now() - started) / 1000);
  const report = await readFile(json, 'utf8').then((t) => JSON.parse(t) as { testResults: FileResult[]; numPassedTests: number; numFailedTests: number }, () => undefined);
  if (report === undefined) {
    // tsc failed, or vitest never wrote its report.
    tally('(no vitest report: tsc or vitest itself failed)', true, wall, []);
  } else {
    for (const file of report.testResults) {
      const failedTests = file.assertionResults.filter((t) => t.status === 'failed').map((t) => t.fullName);
      tally(relative(clone, file.name), file.status !== 'passed', (file.endTime - file.startTime) / 1000, failedTests);
    }
  }
  const green = result.exitCode === 0;
  let line = `run ${run}/${runs}: exit ${result.exitCode}, ${wall} s, ${report ? `${report.numPassedTests} passed, ${report.numFailedTests} failed` : 'no report'}`;
  if (!green) {
    const kept = join(keptRoot, `run-${run}`);
    await mkdir(kept, { recursive: true });
    await writeFile(join(kept, 'output.txt'), result.all ?? '');
    if (report) await writeFile(join(kept, 'report.json'), JSON.stringify(report, null, 2));
    line += `; kept: ${kept}`;
  }
  console.log(line);
  return line;
}

function tally(file: string, failed: boolean, seconds: number, failedTests: string[]): void {
  const t = tallies.get(file) ?? { failed: 0, ran: 0, seconds: [], failedTests: new Set<string>() };
  t.ran += 1;
  if (failed) t.failed += 1;
  t.seconds.push(seconds);
  for (const name of failedTests) t.failedTests.add(name);
  tallies.set(file, t);
}

function printTable(): void {
  console.log('\nfailed/runs  seconds (min-max)  test file');
  const rows = [...tallies.entries()].sort(([a, x], [b, y]) => y.failed - x.failed || a.localeCompare(b));
  for (const [file, t] of rows) {
    const range = `${Math.min(...t.seconds).toFixed(0)}-${Math.max(...t.seconds).toFixed(0)}`;
    console.log(`${`${t.failed}/${t.ran}`.padEnd(11)}  ${range.padEnd(17)}  ${file}`);
    for (const name of t.failedTests) console.log(`${' '.repeat(32)}failed: ${name}`);
  }
  const flaky = rows.filter(([, t]) => t.failed > 0).length;
  console.log(`\n${flaky} of ${rows.length} test files failed at least once in ${runs} run(s)`);
}
