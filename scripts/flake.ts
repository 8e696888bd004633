// Flake count (a script, not a test): runs the default case set N times
// through the CLI, as `npm start` does, and prints how many runs passed, the
// failures and errors grouped by reason, and the spread of each case's
// duration. The machine is shared; the figures say how the harness behaves on
// it, not how fast it can be.
// Serial logs of runs that did not all pass are kept (and named) so a flake
// can be diagnosed: everything under --results DIR, or, without it, the
// failing runs' directories under results/flake-kept-<time>/.
// Usage: npx tsx scripts/flake.ts [--runs N] [--set NAME] [--results DIR]
import { execa } from 'execa';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string' }, set: { type: 'string' }, results: { type: 'string' } } });
const runs = Number(values.runs ?? 20);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`flake: --runs must be a positive whole number, not '${values.runs}'`);
  process.exit(2);
}
const set = values.set ?? 'default';

interface CaseRecord {
  name: string;
  status: string;
  reason?: string;
  durationMs: number;
}

const results = values.results ?? (await mkdtemp(join(tmpdir(), 'memmap-flake-')));
const keptRoot = join(REPO, 'results', `flake-kept-${new Date().toISOString().replace(/[:.]/g, '-')}`);

/** Where a run's logs stay: in --results as they are, else copied out of the temp dir (removed at the end). */
async function keep(dir: string, run: number): Promise<string> {
  if (values.results) return dir;
  const kept = join(keptRoot, `run-${run}`);
  await cp(dir, kept, { recursive: true }).catch(() => {});
  return kept;
}
const records: CaseRecord[] = [];
const started = Date.now();
try {
  for (let i = 1; i <= runs; i++) {
    const dir = join(results, `run-${i}`);
    const run = await execa('node', [join(REPO, 'bin', 'memmap-harness.js'), 'run', '--set', set, '--results', dir], { cwd: REPO, reject: false, all: true, timeout: 30 * 60_000 });
    const report = await readFile(join(dir, 'report.json'), 'utf8').then((t) => JSON.parse(t) as { cases: CaseRecord[] }, () => undefined);
    if (!report) {
      records.push({ name: '(whole run)', status: 'error', reason: `no report.json (exit ${run.exitCode}): ${(run.all ?? '').split('\n').filter(Boolean).pop() ?? ''}`, durationMs: 0 });
    } else {
      records.push(...report.cases);
    }
    const passed = report?.cases.filter((c) => c.status === 'pass').length ?? 0;
    const allPassed = report !== undefined && passed === report.cases.length;
    console.log(`run ${i}/${runs}: ${passed}/${report?.cases.length ?? '?'} passed${allPassed ? '' : `; serial logs: ${await keep(dir, i)}`}`);
  }
} finally {
  if (!values.results) await rm(results, { recursive: true, force: true });
}

const byCase = new Map<string, CaseRecord[]>();
for (const r of records) byCase.set(r.name, [...(byCase.get(r.name) ?? []), r]);
console.log('');
console.log(`${runs} runs of set '${set}' in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
for (const [name, list] of byCase) {
  const seconds = list.filter((r) => r.durationMs > 0).map((r) => r.durationMs / 1000).sort((a, b) => a - b);
  const pct = (p: number) => seconds[Math.min(seconds.length - 1, Math.floor(p * seconds.length))]?.toFixed(1) ?? '-';
  const passed = list.filter((r) => r.status === 'pass').length;
  console.log(`${name.padEnd(16)} ${passed}/${list.length} passed   seconds min ${pct(0)}  median ${pct(0.5)}  p90 ${pct(0.9)}  max ${seconds.at(-1)?.toFixed(1) ?? '-'}`);
}
const problems = new Map<string, number>();
for (const r of records.filter((x) => x.status !== 'pass')) {
  const key = `${r.status}: ${r.name}: ${r.reason ?? 'a check failed'}`;
  problems.set(key, (problems.get(key) ?? 0) + 1);
}
if (problems.size > 0) {
  console.log('');
  console.log('not passed, by reason:');
  for (const [why, n] of problems) console.log(`  ${n}x ${why}`);
}
process.exitCode = problems.size === 0 ? 0 : 1;
