import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCases } from '../../harness/case/load.ts';
import { loadCaseSet } from '../../harness/case/sets.ts';
import { machineArgs } from '../../harness/case/qemu-args.ts';
import type { CaseSpec, MachineType, MemmapType } from '../../harness/case/types.ts';
import { launchOutcome, refusalFindings, type LaunchOutcome } from '../../harness/expect/refusal.ts';
import { expectationsFor, getProfile, predictCase, type Prediction } from '../../harness/model/index.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import type { Verdict } from '../../harness/core/vocabulary.ts';
import { launchVm } from '../../harness/vm/index.ts';
import { testbed } from './testbed.ts';

// Model vs reality on random layouts: 1-4 nodes of 256 MiB multiples (at most
// 8 GiB in all, to keep TCG boots cheap), any memmap-type, pc or q35, any
// revision profile, booted for real under SeaBIOS (which drops spm: the model
// must know). Seeded and bounded: MODEL_PROPERTY_RUNS (default 4) layouts
// from MODEL_PROPERTY_SEED. A layout that does not match is printed as a case
// file to record under cases/.
const RUNS = Number(process.env.MODEL_PROPERTY_RUNS ?? 4);
// Seed 24 draws four layouts that all boot: pc and q35, v5 and v6, spm and reserved nodes.
const SEED = Number(process.env.MODEL_PROPERTY_SEED ?? 24);
const FIRMWARE = 'seabios-bookworm';
const UNIT = 256n << 20n;
// A guest that gets no usable RAM prints nothing: wait this long for nothing.
const SILENT_BOOT_MS = 20_000;

interface DrawnLayout {
  machine: MachineType;
  profile: 'v5' | 'v6' | 'baseline';
  nodes: { units: number; type: MemmapType | undefined }[];
}

const layoutArb: fc.Arbitrary<DrawnLayout> = fc.record({
  machine: fc.constantFrom<MachineType>('pc', 'q35'),
  // Weighted towards the patched builds; the baseline only says "unsupported" to typed layouts.
  profile: fc.constantFrom<DrawnLayout['profile']>('v5', 'v5', 'v5', 'v6', 'v6', 'v6', 'baseline'),
  nodes: fc
    .array(fc.record({ units: fc.integer({ min: 1, max: 16 }), type: fc.constantFrom<MemmapType | undefined>(undefined, undefined, 'normal', 'spm', 'reserved') }), { minLength: 1, maxLength: 4 })
    .filter((nodes) => nodes.reduce((sum, n) => sum + n.units, 0) <= 32),
});

/** A drawn layout as a case file (node i has vCPU i). */
function toCase(layout: DrawnLayout, index: number): CaseSpec {
  const total = layout.nodes.reduce((sum, n) => sum + BigInt(n.units) * UNIT, 0n);
  return {
    name: `layout-random-${SEED}-${index}`,
    description: `fast-check seed ${SEED}, draw ${index}, ${layout.profile}`,
    machine: layout.machine,
    memory: `${total >> 20n}M`,
    smp: layout.nodes.length,
    firmware: FIRMWARE,
    kernel: 'bookworm-6.1',
    nodes: layout.nodes.map((n, id) => ({ id, cpus: String(id), backend: id === 0 ? 'ram' : 'memfd', size: `${(BigInt(n.units) * UNIT) >> 20n}M`, ...(n.type ? { memmapType: n.type } : {}) })),
    expect: { model: true },
  };
}

function describeLayout(layout: DrawnLayout): string {
  return `${layout.profile} ${layout.machine} ${layout.nodes.map((n) => `${n.units * 256}M${n.type ? `:${n.type}` : ''}`).join(' / ')}`;
}

const draws = fc.sample(layoutArb, { seed: SEED, numRuns: RUNS });
const tally = { matched: 0, mismatched: [] as string[], kinds: new Map<string, number>() };
let logDir: string;
let builds: Record<DrawnLayout['profile'], QemuUnderTest>;

beforeAll(async () => {
  const bed = testbed();
  logDir = await mkdtemp(join(tmpdir(), 'memmap-harness-model-property-'));
  const qemu = (binary: string, label: string): QemuUnderTest => ({ binary, label, firmwareDirs: bed.firmwareDirs });
  builds = { v5: qemu(bed.qemuV5, 'v5'), v6: qemu(bed.qemuV6, 'v6'), baseline: qemu(bed.qemuBaseline, 'baseline') };
});

afterAll(async () => {
  const kinds = [...tally.kinds].map(([k, n]) => `${n} ${k}`).join(', ');
  console.log(`model-property (seed ${SEED}): the model matched ${tally.matched} of ${draws.length} random layouts (${kinds})${tally.mismatched.length ? `; mismatched:\n${tally.mismatched.join('\n')}` : ''}`);
  await rm(logDir, { recursive: true, force: true });
});

describe(`random layouts booted for real match the model (seed ${SEED}, ${RUNS} runs, ${FIRMWARE})`, () => {
  draws.forEach((layout, index) => {
    it(`#${index}: ${describeLayout(layout)}`, async () => {
      const spec = toCase(layout, index);
      const prediction = predictCase(spec, FIRMWARE, getProfile(layout.profile));
      const kind = prediction.kind !== 'layout' ? prediction.kind : !prediction.printsE820 ? 'silent guest' : !prediction.printsSrat ? 'no SRAT' : 'booted';
      tally.kinds.set(kind, (tally.kinds.get(kind) ?? 0) + 1);
      const problems = await compareWithReality(spec, prediction, builds[layout.profile], layout.profile);
      if (problems.length === 0) tally.matched += 1;
      else tally.mismatched.push(`#${index} ${describeLayout(layout)}: ${problems.join('; ')}\n${JSON.stringify(spec)}`);
      expect(problems, `record as a case:\n${JSON.stringify(spec, null, 2)}`).toEqual([]);
    });
  });
});

/** What differs between the prediction and a real run; [] when they agree. */
async function compareWithReality(spec: CaseSpec, prediction: Prediction, qemu: QemuUnderTest, profileId: string): Promise<string[]> {
  switch (prediction.kind) {
    case 'unsupported': {
      const verdict = await runCase(spec, { qemu, logDir, firmware: FIRMWARE });
      return verdict.status === 'unsupported' ? [] : [`expected unsupported, got ${verdict.status} ${verdict.reason ?? ''}`];
    }
    case 'refusal': {
      // Our own builds: the rule and our series' exact words are both checked.
      const findings = refusalFindings(prediction.expectation, await startQemu(spec, qemu), { ownSeries: profileId });
      return findings.filter((f) => !f.ok).flatMap((f) => [f.check, ...f.detail]);
    }
    case 'layout':
      return compareBoot(spec, prediction, qemu, profileId);
  }
}

async function compareBoot(spec: CaseSpec, prediction: Extract<Prediction, { kind: 'layout' }>, qemu: QemuUnderTest, profileId: string): Promise<string[]> {
  const expect = expectationsFor(spec, { machine: spec.machine, firmware: FIRMWARE, kernel: spec.kernel, revision: profileId }).spec.expect;
  const options = { qemu, logDir, firmware: FIRMWARE, profile: profileId, ...(prediction.printsE820 ? {} : { bootTimeoutMs: SILENT_BOOT_MS }) };
  let verdict = await runCase({ ...spec, expect }, options);
  // A serial capture that dropped bytes proves nothing either way: boot once more.
  if (damaged(verdict)) verdict = await runCase({ ...spec, expect }, options);
  const problems = [...rowProblems(prediction, verdict)];
  // With SRAT printed, the run goes through the harness's own checker and must pass.
  if (prediction.printsSrat && verdict.status !== 'pass') problems.push(`verdict ${verdict.status} ${verdict.reason ?? ''} ${verdict.findings.filter((f) => !f.ok).flatMap((f) => [f.check, ...f.detail]).join(' ')}`);
  return problems;
}

function damaged(verdict: Verdict): boolean {
  return verdict.findings.some((f) => f.check === 'serial log integrity' && !f.ok);
}

/** The guest's rows against the model's, to the address. */
function rowProblems(prediction: Extract<Prediction, { kind: 'layout' }>, verdict: Verdict): string[] {
  const hex = (n: bigint) => `0x${n.toString(16)}`;
  const e820 = (rows: { start: bigint; end: bigint; type: number }[]) => rows.map((r) => `${hex(r.start)}-${hex(r.end)}:${r.type}`).join(' ');
  const srat = (rows: { node: number; pxm: number; start: bigint; end: bigint }[]) => rows.map((r) => `n${r.node}/p${r.pxm} ${hex(r.start)}-${hex(r.end)}`).join(' ');
  const problems: string[] = [];
  if (e820(verdict.e820) !== e820(prediction.e820.rows)) problems.push(`e820 expected [${e820(prediction.e820.rows)}] got [${e820(verdict.e820)}]`);
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
        const qemu = builds[profileId as DrawnLayout['profile']];
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
