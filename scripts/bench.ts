// Speed benchmark (not a test: this machine is shared and noisy). Prints, in
// one run, seconds per case for Debian's kernel vs our minimal one, SeaBIOS vs
// OVMF, early verdict on vs off, and the default matrix subset with 1 job vs
// N jobs, as ratios next to the absolute figures, with the core count.
// Usage: npx tsx scripts/bench.ts [--repeat N] [--skip-matrix]
import { execa } from 'execa';
import { cpus, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../harness/util/paths.ts';
import { loadCase } from '../harness/case/load.ts';
import type { CaseSpec } from '../harness/case/types.ts';
import { resolveQemu } from '../harness/run/resolve-qemu.ts';
import { runCase, type CaseRunOptions, type QemuUnderTest } from '../harness/run/run-case.ts';

const { values } = parseArgs({ options: { repeat: { type: 'string' }, 'skip-matrix': { type: 'boolean' } } });
const repeat = Number(values.repeat ?? 3);

/** Median wall seconds of `repeat` runs of one case; throws if any run does not pass. */
async function timeCase(spec: CaseSpec, options: CaseRunOptions): Promise<number> {
  const seconds: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const verdict = await runCase(spec, options);
    if (verdict.status !== 'pass') throw new Error(`${spec.name} on ${options.kernel}/${options.firmware}: ${verdict.status} ${verdict.reason ?? ''}`);
    seconds.push(verdict.durationMs / 1000);
  }
  return median(seconds);
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function row(label: string, a: [string, number], b: [string, number]): string {
  const ratio = a[1] / b[1];
  return `${label.padEnd(34)} ${a[0]} ${a[1].toFixed(1)} s  vs  ${b[0]} ${b[1].toFixed(1)} s   ratio ${ratio.toFixed(2)}x`;
}

/** The case with its guest-view expectations removed: only firmware-table facts, so an early verdict applies. */
function tablesOnly(spec: CaseSpec): CaseSpec {
  const { guest: _guest, ...expect } = spec.expect;
  return { ...spec, name: `${spec.name}-tables`, expect, onFirmware: undefined };
}

async function timeMatrix(jobs: number): Promise<number> {
  const results = await mkdtemp(join(tmpdir(), 'memmap-bench-matrix-'));
  const started = performance.now();
  try {
    await execa('node', ['bin/memmap-harness.js', 'matrix', '--subset', 'default', '--jobs', String(jobs), '--results', results], { cwd: REPO_ROOT, timeout: 3_600_000, reject: false });
  } finally {
    await rm(results, { recursive: true, force: true });
  }
  return (performance.now() - started) / 1000;
}

const logDir = await mkdtemp(join(tmpdir(), 'memmap-bench-'));
try {
  const qemu: QemuUnderTest = await resolveQemu({});
  const spm = await loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json'));
  const normal = await loadCase(join(REPO_ROOT, 'cases', 'seed-normal.json'));
  const base = { qemu, logDir };
  console.log(`memmap-harness benchmark: ${cpus().length} cores, median of ${repeat} runs, QEMU ${qemu.label}`);
  const debian = await timeCase(spm, { ...base, kernel: 'bookworm-6.1', firmware: 'ovmf-sid' });
  const minimal = await timeCase(spm, { ...base, kernel: 'minimal-6.1', firmware: 'ovmf-sid' });
  console.log(row('seed-spm, kernel (OVMF sid)', ['Debian 6.1', debian], ['minimal 6.1', minimal]));
  const seabios = await timeCase(normal, { ...base, kernel: 'minimal-6.1', firmware: 'seabios-bookworm' });
  const ovmf = await timeCase(normal, { ...base, kernel: 'minimal-6.1', firmware: 'ovmf-sid' });
  console.log(row('seed-normal, firmware (minimal)', ['OVMF sid', ovmf], ['SeaBIOS', seabios]));
  const tables = tablesOnly(spm);
  const late = await timeCase(tables, { ...base, kernel: 'minimal-6.1', firmware: 'ovmf-sid', earlyVerdict: false });
  const early = await timeCase(tables, { ...base, kernel: 'minimal-6.1', firmware: 'ovmf-sid', earlyVerdict: true });
  console.log(row('seed-spm tables only (minimal)', ['early off', late], ['early on', early]));
  const lateDebian = await timeCase(tables, { ...base, kernel: 'bookworm-6.1', firmware: 'ovmf-sid', earlyVerdict: false });
  const earlyDebian = await timeCase(tables, { ...base, kernel: 'bookworm-6.1', firmware: 'ovmf-sid', earlyVerdict: true });
  console.log(row('seed-spm tables only (Debian 6.1)', ['early off', lateDebian], ['early on', earlyDebian]));
  if (!values['skip-matrix']) {
    const n = Math.max(1, cpus().length);
    const one = await timeMatrix(1);
    const many = await timeMatrix(n);
    console.log(row('default matrix subset, wall', ['1 job', one], [`${n} jobs`, many]));
  }
} finally {
  await rm(logDir, { recursive: true, force: true });
}
