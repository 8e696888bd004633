import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCases } from '../../harness/case/load.ts';
import { loadCaseSet } from '../../harness/case/sets.ts';
import { machineArgs } from '../../harness/case/qemu-args.ts';
import type { CaseSpec, MachineType } from '../../harness/case/types.ts';
import type { MemmapType } from '../../harness/core/memmap-types.ts';
import { launchOutcome, refusalFindings, type LaunchOutcome } from '../../harness/check/refusal.ts';
import { getProfile } from '../../harness/traits/profiles.ts';
import { predictCase } from '../../harness/model/from-case.ts';
import type { Prediction } from '../../harness/model/types.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import type { E820Row, Verdict } from '../../harness/core/vocabulary.ts';
import { rowsInScope } from '../../harness/core/e820-scope.ts';
import { launchVm } from '../../harness/vm/launch.ts';
import { testbedQemu } from './testbed.ts';
import { keepLogsOnFailure } from './faults-helpers.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Model vs reality on random layouts, a real property test: every run draws
// from a fresh seed (printed; MEMMAP_HARNESS_SEED=<n> repeats a run), each
// draw has at least one typed node (1-4 nodes of 256 MiB multiples, at most
// 8 GiB, pc or q35), MEMMAP_HARNESS_PROPERTY_RUNS draws per revision (small
// by default: every draw boots a real guest under TCG), on each revision of
// our own series (v5, v6), booted on the cases' default firmware and kernel.
// Every draw's verdict is checked; a failing layout is shrunk by fast-check
// to the smallest one that still fails and printed as a case file.
const RUNS = positiveInt('MEMMAP_HARNESS_PROPERTY_RUNS', 3);
const SEED = process.env.MEMMAP_HARNESS_SEED !== undefined ? intFromEnv('MEMMAP_HARNESS_SEED') : Math.floor(Math.random() * 2 ** 31);
const FIRMWARE = 'ovmf-sid';
const KERNEL = 'minimal-6.1';
const REVISIONS = ['v5', 'v6'] as const;
const UNIT = 256n << 20n;
// A guest that gets no usable RAM prints nothing: wait this long for nothing.
const SILENT_BOOT_MS = 20_000;
// Per boot on two shared cores (a cold OVMF boot of the minimal kernel takes 5-30 s); shrinking gets as long again as the draws.
const PER_DRAW_MS = 120_000;
const PROPERTY_BUDGET_MS = 2 * RUNS * PER_DRAW_MS + 20 * 60_000;

console.log(`model-property: seed ${SEED} (MEMMAP_HARNESS_SEED=${SEED} repeats it), ${RUNS} draw(s) per revision (MEMMAP_HARNESS_PROPERTY_RUNS)`);

function intFromEnv(name: string): number {
  const value = Number(process.env[name]);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be a whole number, not '${process.env[name]}'`);
  return value;
}

function positiveInt(name: string, fallback: number): number {
  if (process.env[name] === undefined) return fallback;
  const value = intFromEnv(name);
  if (value < 1) throw new Error(`${name} must be at least 1, not ${value}`);
  return value;
}

interface DrawnLayout {
  machine: MachineType;
  nodes: { units: number; type: MemmapType | undefined }[];
}

const layoutArb: fc.Arbitrary<DrawnLayout> = fc.record({
  machine: fc.constantFrom<MachineType>('pc', 'q35'),
  nodes: fc
    .array(fc.record({ units: fc.integer({ min: 1, max: 16 }), type: fc.constantFrom<MemmapType | undefined>(undefined, 'normal', 'spm', 'reserved') }), { minLength: 1, maxLength: 4 })
    .filter((nodes) => nodes.reduce((sum, n) => sum + n.units, 0) <= 32 && nodes.some((n) => n.type !== undefined)),
});

let drawn = 0;

/** A drawn layout as a case file (node i has vCPU i); each draw its own name, so each keeps its own serial log. */
function toCase(layout: DrawnLayout, revision: string): CaseSpec {
  drawn += 1;
  const total = layout.nodes.reduce((sum, n) => sum + BigInt(n.units) * UNIT, 0n);
  return {
    name: `layout-random-${SEED}-${revision}-${drawn}`,
    description: `fast-check seed ${SEED}, ${revision}: ${describeLayout(layout)}`,
    machine: layout.machine,
    memory: `${total >> 20n}M`,
    smp: layout.nodes.length,
    firmware: FIRMWARE,
    kernel: KERNEL,
    nodes: layout.nodes.map((n, id) => ({ id, cpus: String(id), backend: id === 0 ? 'ram' : 'memfd', size: `${(BigInt(n.units) * UNIT) >> 20n}M`, ...(n.type ? { memmapType: n.type } : {}) })),
    expect: { model: true },
  };
}

function describeLayout(layout: DrawnLayout): string {
  return `${layout.machine} ${layout.nodes.map((n) => `${n.units * 256}M${n.type ? `:${n.type}` : ''}`).join(' / ')}`;
}

let logDir: string;
let builds: Record<'v5' | 'v6' | 'baseline' | 'upstream-11.1', QemuUnderTest>;

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'memmap-harness-model-property-'));
  builds = { v5: testbedQemu('v5'), v6: testbedQemu('v6'), baseline: testbedQemu('baseline'), 'upstream-11.1': testbedQemu('upstream-11.1') };
});

afterAll(() => rm(logDir, { recursive: true, force: true }));

describe(`random layouts with typed memory, booted for real, match the model (seed ${SEED}, ${RUNS} per revision, ${FIRMWARE}, ${KERNEL})`, () => {
  for (const revision of REVISIONS) {
    it(`${revision}`, { timeout: scaledMs(PROPERTY_BUDGET_MS + 60_000) }, async () => {
      keepLogsOnFailure(logDir);
      const kinds = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(layoutArb, async (layout) => {
          const spec = toCase(layout, revision);
          const prediction = predictCase(spec, FIRMWARE, getProfile(revision));
          const kind = kindOf(prediction);
          kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          const problems = await compareWithReality(spec, prediction, builds[revision], revision);
          if (problems.length > 0) throw new Error(`${describeLayout(layout)} (${kind}): ${problems.join('; ')}\nrecord as a case:\n${JSON.stringify(spec, null, 2)}`);
        }),
        { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: PROPERTY_BUDGET_MS, markInterruptAsFailure: true },
      );
      console.log(`model-property ${revision} (seed ${SEED}): ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    });
  }
});

function kindOf(prediction: Prediction): string {
  if (prediction.kind !== 'layout') return prediction.kind;
  return !prediction.printsE820 ? 'silent guest' : !prediction.printsSrat ? 'no SRAT' : 'booted';
}

/**
 * What differs between the prediction and a real run; [] when they agree. The
 * run goes through runCase with the model's own expectations, and its verdict
 * is checked for every kind of prediction.
 */
async function compareWithReality(spec: CaseSpec, prediction: Prediction, qemu: QemuUnderTest, revision: string): Promise<string[]> {
  const options = { qemu, logDir, firmware: FIRMWARE, kernel: KERNEL, profile: revision, ...(prediction.kind === 'layout' && !prediction.printsE820 ? { bootTimeoutMs: SILENT_BOOT_MS } : {}) };
  let verdict = await runCase(spec, options);
  // A serial capture that dropped bytes proves nothing either way: boot once more.
  if (damaged(verdict)) verdict = await runCase(spec, options);
  const said = `${verdict.status}${verdict.reason ? ` (${verdict.reason})` : ''} ${verdict.findings.filter((f) => !f.ok).flatMap((f) => [f.check, ...f.detail]).join(' ')}`.trim();
  switch (prediction.kind) {
    case 'unsupported':
      return verdict.status === 'unsupported' ? [] : [`expected unsupported, got ${said}`];
    case 'refusal':
      // The model's refusal (rule and, on our own series, exact words) is what runCase checked.
      return verdict.status === 'pass' ? [] : [`expected QEMU to refuse as the model says, got ${said}`];
    case 'layout': {
      const problems = rowProblems(prediction, verdict);
      if (!prediction.printsE820) {
        // Nothing printed is the prediction: only the boot timeout may end the run (a QEMU that died is a failure).
        if (!(verdict.status === 'error' && /^guest did not finish: no console line matched .* within \d+ ms/.test(verdict.reason ?? ''))) problems.push(`expected a silent guest (timeout), got ${said}`);
      } else if (prediction.printsSrat) {
        if (verdict.status !== 'pass') problems.push(`expected pass, got ${said}`);
      } else if (!(verdict.status === 'pass' || (verdict.status === 'error' && /^guest kernel panic: /.test(verdict.reason ?? '')))) {
        // No RAM for the ACPI tables: the rows are printed, then the kernel may panic; nothing else is expected.
        problems.push(`expected the rows then at most a kernel panic, got ${said}`);
      }
      return problems;
    }
  }
}

function damaged(verdict: Verdict): boolean {
  return verdict.findings.some((f) => f.check === 'serial log integrity' && !f.ok);
}

/** The guest's rows against the model's, to the address. */
function rowProblems(prediction: Extract<Prediction, { kind: 'layout' }>, verdict: Verdict): string[] {
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  const e820 = (rows: { start: bigint; end: bigint; type: number }[]) => rows.map((r) => `${hex(r.start)}-${hex(r.end)}:${r.type}`).join(' ');
  const srat = (rows: { node: number; pxm: number; start: bigint; end: bigint }[]) => rows.map((r) => `n${r.node}/p${r.pxm} ${hex(r.start)}-${hex(r.end)}`).join(' ');
  // Under OVMF the model draws only the part above 4 GiB (the firmware lays out the rest its own way).
  const inScope = <R extends E820Row>(rows: readonly R[]) => rowsInScope(rows, prediction.e820.scope);
  const [expected, shown] = [inScope(prediction.e820.rows), inScope(verdict.e820)];
  const problems: string[] = [];
  if (e820(shown) !== e820(expected)) problems.push(`e820 expected [${e820(expected)}] got [${e820(shown)}]`);
  if (srat(verdict.srat) !== srat(prediction.srat)) problems.push(`srat expected [${srat(prediction.srat)}] got [${srat(verdict.srat)}]`);
  return problems;
}

/** Starts QEMU with the case's machine and NUMA arguments only (no guest), stops it if it came up. */
async function startQemu(spec: CaseSpec, qemu: QemuUnderTest): Promise<LaunchOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'memmap-harness-refusal-'));
  try {
    const args = [...machineArgs(spec, dir), '-nodefaults', '-display', 'none', ...qemu.firmwareDirs.flatMap((d) => ['-L', d])];
    return await launchOutcome(() => launchVm({ binary: qemu.binary, args, timeoutMs: 30_000 }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('negative cases: QEMU refuses with the stated message, and the model predicted it', async () => {
  const casesDir = join(REPO_ROOT, 'cases');
  const negatives = await loadCases(casesDir, await loadCaseSet(casesDir, 'negative'));

  it('there is one for each refusal the issue names', () => {
    const stated = negatives.map((c) => (c.expect.refusal ? Object.values(c.expect.refusal.wording ?? {}).join('\n') : 'unsupported')).join('\n');
    for (const what of [/does not accept value 'bogus'/, /requires memdev/, /straddles the 4 GiB boundary/, /unsupported/]) expect(stated).toMatch(what);
  });

  for (const spec of negatives) {
    for (const profileId of spec.profiles ?? ['v5', 'v6', 'baseline']) {
      it(`${spec.name} on ${profileId}`, async () => {
        const qemu = builds[profileId as keyof typeof builds];
        const prediction = predictCase(spec, spec.firmware, getProfile(profileId));
        if (spec.expect.refusal === undefined) {
          expect(prediction.kind).toBe('unsupported');
          expect((await runCase(spec, { qemu, logDir })).status).toBe('unsupported');
          return;
        }
        const outcome = await startQemu(spec, qemu);
        const findings = refusalFindings(spec.expect.refusal, outcome, { ownSeries: profileId });
        expect(findings.filter((f) => !f.ok)).toEqual([]);
        if (prediction.kind !== 'refusal' || !outcome.refused) throw new Error(`model predicted ${prediction.kind}`);
        expect(refusalFindings(prediction.expectation, outcome, { ownSeries: profileId }).filter((f) => !f.ok)).toEqual([]);
      });
    }
  }

  it('v5 accepts memmap-type on a node without memdev (what v6 refuses), as the model says', async () => {
    const spec = negatives.find((c) => c.name === 'negative-memmap-type-without-memdev');
    if (!spec) throw new Error('negative-memmap-type-without-memdev.json is missing');
    expect(predictCase(spec, spec.firmware, getProfile('v5')).kind).toBe('layout');
    expect((await startQemu(spec, builds.v5)).refused).toBe(false);
  });
});
