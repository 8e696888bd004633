// What the use steps (issue 27) cost a case's boot (a benchmark, not a test:
// the machine is shared and noisy). Runs one case (default seed-spm) with no
// use steps, with each step alone and with both, round-robin, N times each, on
// the v5 build and the case's own firmware and kernel, and prints per variant
// the median wall time of the case (phasesMs.guestMs: from `cont` to the probe's
// end marker) and the steps' own time on the guest's clock (the `elapsed-cs`
// lines of the use sections), beside the load average.
// Usage: npx tsx scripts/bench-use.ts [--case NAME] [--runs N] [--firmware ID] [--kernel ID]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCase } from '../harness/case/load.ts';
import type { CaseSpec, UseStep } from '../harness/case/types.ts';
import { parseSerialLog } from '../harness/parse/log.ts';
import { resolveQemu } from '../harness/run/resolve-qemu.ts';
import { runCase } from '../harness/run/run-case.ts';
import { REPO_ROOT } from '../harness/util/paths.ts';

const { values } = parseArgs({ options: { case: { type: 'string' }, runs: { type: 'string' }, firmware: { type: 'string' }, kernel: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, not '${values.runs}'`);

const spec = await loadCase(join(REPO_ROOT, 'cases', `${values.case ?? 'seed-spm'}.json`));
if (!spec.use || !spec.expect.use) throw new Error(`${spec.name} asks for no use steps`);
const variants: { label: string; steps: UseStep[] }[] = [
  { label: 'no use steps', steps: [] },
  { label: 'dax-pattern', steps: ['dax-pattern'] },
  { label: 'kmem-online', steps: ['kmem-online'] },
  { label: 'both', steps: ['dax-pattern', 'kmem-online'] },
];

/** The case with only `steps` (their expectations trimmed to match). */
function withSteps(steps: UseStep[]): CaseSpec {
  const { use: _u, ...expect } = spec.expect;
  if (steps.length === 0) return { ...spec, use: undefined, expect };
  const use = (spec.expect.use ?? []).map((u) => ({ node: u.node, ...(steps.includes('dax-pattern') ? { daxPattern: u.daxPattern } : {}), ...(steps.includes('kmem-online') ? { kmemOnline: u.kmemOnline } : {}) }));
  return { ...spec, use: steps, expect: { ...expect, use } };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const qemu = await resolveQemu({ patches: join(REPO_ROOT, 'patches', 'memmap-type', 'v5') });
const logDir = await mkdtemp(join(tmpdir(), 'memmap-harness-bench-use-'));
const samples = new Map<string, { guestMs: number[]; daxMs: number[]; kmemMs: number[] }>(variants.map((v) => [v.label, { guestMs: [], daxMs: [], kmemMs: [] }]));
try {
  for (let i = 0; i < runs; i++) {
    for (const variant of variants) {
      const verdict = await runCase(withSteps(variant.steps), { qemu, logDir, firmware: values.firmware, kernel: values.kernel });
      if (verdict.status !== 'pass') throw new Error(`${variant.label}: ${verdict.status} ${verdict.reason ?? verdict.findings.filter((f) => !f.ok).map((f) => f.check).join('; ')} (${verdict.serialLog})`);
      const probe = parseSerialLog(await readFile(verdict.serialLog ?? '', 'latin1')).guest;
      const s = samples.get(variant.label)!;
      s.guestMs.push(verdict.phases?.guestMs ?? NaN);
      if (probe.useDaxElapsedMs !== undefined) s.daxMs.push(probe.useDaxElapsedMs);
      if (probe.useKmem?.elapsedMs !== undefined) s.kmemMs.push(probe.useKmem.elapsedMs);
      console.error(`run ${i + 1}/${runs} ${variant.label}: guest ${(verdict.phases?.guestMs ?? NaN).toFixed(0)} ms, load ${loadavg()[0]?.toFixed(1)}`);
    }
  }
} finally {
  await rm(logDir, { recursive: true, force: true });
}
const base = median(samples.get('no use steps')!.guestMs);
console.log(`${spec.name}, ${runs} run(s) per variant, load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('variant          guest (median)  vs none   dax-pattern (guest clock)  kmem-online (guest clock)');
for (const v of variants) {
  const s = samples.get(v.label)!;
  const g = median(s.guestMs);
  const dax = s.daxMs.length ? `${median(s.daxMs)} ms` : '-';
  const kmem = s.kmemMs.length ? `${median(s.kmemMs)} ms` : '-';
  console.log(`${v.label.padEnd(16)} ${`${g.toFixed(0)} ms`.padStart(14)}  ${`${g - base >= 0 ? '+' : ''}${(g - base).toFixed(0)} ms`.padStart(8)}   ${dax.padStart(24)}  ${kmem.padStart(24)}`);
}
