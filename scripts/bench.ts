// Speed benchmark (not a test: this machine is shared and noisy). Prints, in
// one run, next to the targets of issue 13 and as ratios: seconds per seed
// case on OVMF vs qboot vs SeaBIOS (full guest probe); tables-only (early
// verdict) vs full probe; `npm start` warm with 1 job vs N; and the QEMU
// rebuilds of scripts/bench-build.ts (one-line edit, new series, cold).
// The load average is printed with the figures: they mean little without it.
// Usage: npx tsx scripts/bench.ts [--repeat N] [--skip-start] [--skip-build] [--skip-cold] [--cold-ccache]
import { execa } from 'execa';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../harness/util/paths.ts';
import { loadCase } from '../harness/case/load.ts';
import type { CaseSpec } from '../harness/case/types.ts';
import { DEFAULT_SERIES_DIR } from '../harness/qemu-build/config.ts';
import { resolveQemu } from '../harness/run/resolve-qemu.ts';
import { runCase, type CaseRunOptions, type QemuUnderTest } from '../harness/run/run-case.ts';
import { formatBuildRows, measureBuilds, ratio } from './bench-build.ts';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string' },
    'skip-start': { type: 'boolean' },
    'skip-build': { type: 'boolean' },
    'skip-cold': { type: 'boolean' },
    'cold-ccache': { type: 'boolean' },
  },
});
const repeat = Number(values.repeat ?? 3);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, not '${values.repeat}'`);

const TARGETS = { fullProbe: 3, tablesOnly: 1.5, startWarm: 8 } as const;

/** Runs that did not pass, by figure: printed with the figures (a failed run's time is not counted). */
const failures: string[] = [];

/** Seconds of each passing run of `repeat` runs of one case; a failing run is noted in `failures`; throws if none passes. */
async function timeCase(spec: CaseSpec, options: CaseRunOptions): Promise<number[]> {
  const seconds: number[] = [];
  const what = `${spec.name} on ${options.kernel ?? spec.kernel}/${options.firmware ?? spec.firmware}`;
  for (let i = 0; i < repeat; i++) {
    // Each run its own log directory: a serial log left by the previous run at the same path can be read as this run's (see the report).
    const verdict = await runCase(spec, { ...options, logDir: await mkdtemp(join(options.logDir, 'run-')) });
    if (verdict.status === 'pass') {
      seconds.push(verdict.durationMs / 1000);
      continue;
    }
    const failed = verdict.findings.filter((f) => !f.ok).map((f) => f.check);
    failures.push(`${what} run ${i + 1}: ${verdict.status} after ${(verdict.durationMs / 1000).toFixed(1)} s ${verdict.reason ?? ''} ${failed.join('; ')}`);
  }
  if (seconds.length === 0) throw new Error(`${what}: no run passed (${failures.slice(-repeat).join(' | ')})`);
  return seconds;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One line: label, median (min–max), target and ratio to it, extra text. */
function line(label: string, runs: readonly number[], target?: number, extra = ''): string {
  const spread = runs.length > 1 ? ` (${Math.min(...runs).toFixed(1)}–${Math.max(...runs).toFixed(1)})` : '';
  const shown = `${median(runs).toFixed(1)} s${spread}`;
  const against = target === undefined ? '' : `target ${target} s ${ratio(median(runs), target)}`;
  return `  ${label.padEnd(40)} ${shown.padEnd(20)} ${against.padEnd(24)} ${extra}`;
}

/** "a/b = 2.41x". */
function versus(a: [string, readonly number[]], b: [string, readonly number[]]): string {
  return `${a[0]}/${b[0]} = ${(median(a[1]) / median(b[1])).toFixed(2)}x`;
}

/** The case with its guest-view expectations removed: only firmware-table facts, so the early verdict applies. */
function tablesOnly(spec: CaseSpec): CaseSpec {
  const { guest: _guest, ...expect } = spec.expect;
  return { ...spec, name: `${spec.name}-tables`, expect, onFirmware: undefined };
}

/** Wall seconds of `npm start -- --jobs N` (warm: QEMU and images cached), its exit status checked. */
async function timeStart(jobs: number): Promise<number> {
  const results = await mkdtemp(join(tmpdir(), 'memmap-bench-start-'));
  const started = performance.now();
  try {
    const run = await execa('npm', ['start', '--', '--jobs', String(jobs), '--results', results], { cwd: REPO_ROOT, timeout: 600_000, reject: false, all: true });
    if (run.exitCode !== 0) throw new Error(`npm start --jobs ${jobs} exited ${run.exitCode}: ${run.all?.split('\n').slice(-5).join(' | ')}`);
  } finally {
    await rm(results, { recursive: true, force: true });
  }
  return (performance.now() - started) / 1000;
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const logDir = await mkdtemp(join(tmpdir(), 'memmap-bench-'));
try {
  const qemu: QemuUnderTest = await resolveQemu({});
  const spm = await loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json'));
  const base = { qemu, logDir, kernel: 'minimal-6.1' };
  console.log(`memmap-harness benchmark: ${cpus().length} cores, ${repeat} run(s) per figure (median, min–max), QEMU ${qemu.label}, load average ${load()} at the start`);

  console.log('per case, seed-spm with the full guest probe (minimal 6.1 kernel):');
  const ovmf = await timeCase(spm, { ...base, firmware: 'ovmf-sid' });
  const qboot = await timeCase(spm, { ...base, firmware: 'qboot' });
  const seabios = await timeCase(spm, { ...base, firmware: 'seabios-bookworm' });
  console.log(line('OVMF sid', ovmf, TARGETS.fullProbe, versus(['OVMF', ovmf], ['qboot', qboot])));
  console.log(line('qboot (the default set\'s)', qboot, TARGETS.fullProbe));
  console.log(line('SeaBIOS bookworm (spm dropped: variant)', seabios, TARGETS.fullProbe, versus(['SeaBIOS', seabios], ['qboot', qboot])));

  console.log('tables only (early verdict once the probe has printed QEMU\'s raw tables) vs full probe, qboot:');
  const tables = await timeCase(tablesOnly(spm), { ...base, firmware: 'qboot', earlyVerdict: true });
  console.log(line('seed-spm tables only', tables, TARGETS.tablesOnly, versus(['full', qboot], ['tables', tables])));
  const kernelOnly = await timeCase(tablesOnly(spm), { ...base, firmware: 'qboot', earlyVerdict: true, rawTables: 'skip-when-early' });
  console.log(line('seed-spm tables only, QEMU\'s raw tables skipped (stop at Memory:)', kernelOnly, TARGETS.tablesOnly, versus(['raw tables', tables], ['skipped', kernelOnly])));

  if (!values['skip-start']) {
    console.log(`npm start, warm (3 seed cases; bootstrap check, QEMU cache hit, images cached), load average ${load()}:`);
    const one = [await timeStart(1)];
    const n = Math.max(1, cpus().length);
    const many = [await timeStart(n)];
    console.log(line('1 job', one, TARGETS.startWarm));
    console.log(line(`${n} jobs`, many, TARGETS.startWarm, versus(['1 job', one], [`${n} jobs`, many])));
  }

  if (!values['skip-build']) {
    console.log(`QEMU builds (persistent build tree + shared ccache), load average ${load()}:`);
    const rows = await measureBuilds({ patches: DEFAULT_SERIES_DIR, other: join(REPO_ROOT, 'patches', 'memmap-type', 'v6'), skipCold: values['skip-cold'] ?? false, coldCcache: values['cold-ccache'] ?? false });
    for (const row of formatBuildRows(rows)) console.log(row);
    if (values['skip-cold']) console.log('  cold build: skipped (--skip-cold)');
  }
  for (const failure of failures) console.log(`  not counted: ${failure}`);
  console.log(`load average ${load()} at the end`);
} finally {
  await rm(logDir, { recursive: true, force: true });
}
