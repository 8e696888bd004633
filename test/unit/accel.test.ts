import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCases } from '../../harness/case/load.ts';
import { machineArgs } from '../../harness/case/qemu-args.ts';
import { parseRunArgs } from '../../harness/cli/options.ts';
import { acceleratorOf, statusOf } from '../../harness/core/vocabulary.ts';
import { CASES_DIR, unavailableFor } from '../../harness/matrix/execute.ts';
import { planMatrix } from '../../harness/matrix/expand.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { cellName, parseCellName } from '../../harness/matrix/name.ts';
import { acceleratorFindings, UNVERIFIED_CHECK } from '../../harness/model/accelerators.ts';
import { probeArgs } from '../../harness/interface/probe-runs.ts';
import { acceleratorChoiceOf, checkKvmDevice, decideAccelerator } from '../../harness/util/accel.ts';
import { HarnessError, UsageError } from '../../harness/util/errors.ts';
import { EXIT, exitForStatuses } from '../../harness/util/exit-codes.ts';

const matrixDef = await loadMatrix();
const usable = () => undefined;
const missing = () => '/dev/kvm does not exist';
const scratch = await mkdtemp(join(tmpdir(), 'memmap-harness-accel-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('choosing the accelerator', () => {
  it('takes --accel over MEMMAP_HARNESS_ACCEL over the default tcg, and refuses other words as usage errors', () => {
    expect(acceleratorChoiceOf(undefined, {})).toBe('tcg');
    expect(acceleratorChoiceOf(undefined, { MEMMAP_HARNESS_ACCEL: 'auto' })).toBe('auto');
    expect(acceleratorChoiceOf('kvm', { MEMMAP_HARNESS_ACCEL: 'tcg' })).toBe('kvm');
    expect(() => acceleratorChoiceOf('hvf', {})).toThrow(UsageError);
    expect(() => acceleratorChoiceOf(undefined, { MEMMAP_HARNESS_ACCEL: 'KVM' })).toThrow(/MEMMAP_HARNESS_ACCEL must be tcg, kvm or auto, not 'KVM'/);
  });

  it('run parses --accel and the variable', () => {
    expect(parseRunArgs(['--accel', 'auto'], {}).accel).toBe('auto');
    expect(parseRunArgs([], { MEMMAP_HARNESS_ACCEL: 'kvm' }).accel).toBe('kvm');
    expect(parseRunArgs([], {}).accel).toBe('tcg');
    expect(() => parseRunArgs(['--accel', 'xen'], {})).toThrow(UsageError);
  });

  it('auto takes kvm when /dev/kvm is usable and tcg otherwise, saying why', () => {
    expect(decideAccelerator('auto', usable)).toEqual({ accel: 'kvm', reason: 'auto: /dev/kvm is usable' });
    expect(decideAccelerator('auto', missing)).toEqual({ accel: 'tcg', reason: 'auto: /dev/kvm does not exist' });
  });

  it('tcg never looks at /dev/kvm; kvm without a usable one is one infrastructure error line (exit 3), not a usage error', () => {
    expect(decideAccelerator('tcg', () => expect.unreachable('tcg must not check /dev/kvm'))).toEqual({ accel: 'tcg', reason: 'asked for' });
    expect(decideAccelerator('kvm', usable).accel).toBe('kvm');
    let thrown: unknown;
    try {
      decideAccelerator('kvm', missing);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HarnessError);
    expect(thrown).not.toBeInstanceOf(UsageError);
    expect((thrown as HarnessError).oneLine()).toMatch(/^-accel kvm asked for, but \/dev\/kvm does not exist; .*--device \/dev\/kvm/);
    expect((thrown as HarnessError).oneLine()).not.toContain('\n');
  });

  it('checks the device by opening it read-write, as QEMU does', async () => {
    expect(checkKvmDevice(join(scratch, 'no-such-kvm'))).toMatch(/does not exist$/);
    // A directory exists but does not open read-write (permission bits would not tell: tests may run as root).
    expect(checkKvmDevice(scratch)).toMatch(/is not usable read-write \(EISDIR\)/);
    const file = join(scratch, 'fake-kvm');
    await writeFile(file, '');
    expect(checkKvmDevice(file)).toBeUndefined();
  });
});

describe('the accelerator on the QEMU command line', () => {
  it('puts tcg (the default) or kvm into a case machine arguments, where reports read it back', async () => {
    const [spec] = await loadCases(CASES_DIR, ['seed-spm']);
    if (!spec) throw new Error('seed-spm is missing');
    const tcg = machineArgs(spec, scratch);
    expect(tcg.slice(0, 4)).toEqual(['-machine', spec.machine, '-accel', 'tcg,thread=single']);
    expect(acceleratorOf(tcg)).toBe('tcg');
    const kvm = machineArgs(spec, scratch, 'kvm');
    expect(acceleratorOf(kvm)).toBe('kvm');
    expect(kvm.filter((a) => a === '-accel')).toHaveLength(1);
  });

  it('dry-start probes run under tcg unless told otherwise', () => {
    expect(acceleratorOf(probeArgs('memmap-type-with-memdev', []))).toBe('tcg');
    expect(acceleratorOf(probeArgs('memmap-type-with-memdev', [], 'kvm'))).toBe('kvm');
  });
});

describe('a KVM verdict is never a silent pass', () => {
  it('adds nothing under tcg, whose model was measured', () => {
    expect(acceleratorFindings('tcg')).toEqual([]);
  });

  it('adds one failed finding under kvm that names the entry QEMU adds, so a run whose checks all held is not a pass', () => {
    const findings = acceleratorFindings('kvm');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ aspect: 'e820', check: UNVERIFIED_CHECK, ok: false });
    expect(findings[0]?.detail[0]).toMatch(/^expectation unverified under KVM: /);
    expect(findings[0]?.detail.join('\n')).toContain('[mem 0x00000000feffc000-0x00000000feffffff] type 2');
    const allHeld = [{ aspect: 'e820' as const, check: 'rows', ok: true, detail: [] }];
    expect(statusOf(allHeld)).toBe('pass');
    expect(statusOf([...allHeld, ...findings])).toBe('fail');
    expect(exitForStatuses([statusOf([...allHeld, ...findings])])).toBe(EXIT.failed);
  });
});

describe('the accel axis of the matrix', () => {
  const def = matrixDef;
  const all = ['seed-spm', 'seed-reserved', 'seed-normal', 'explicit-normal'];

  it('leaves tcg out of cell names and puts kvm last; names parse back', () => {
    const tcg = parseCellName('v6.q35.ovmf-sid.bookworm-6.1.memfd.unix', def.axes);
    expect(tcg).toMatchObject({ interface: 'memmap-type', accel: 'tcg' });
    const kvm = { ...tcg, accel: 'kvm' };
    expect(cellName(kvm)).toBe('v6.q35.ovmf-sid.bookworm-6.1.memfd.unix.kvm');
    expect(parseCellName('v6.q35.ovmf-sid.bookworm-6.1.memfd.unix.kvm', def.axes)).toEqual(kvm);
    const both = { ...kvm, interface: 'sp-mem' };
    expect(cellName(both)).toBe('v6.q35.ovmf-sid.bookworm-6.1.memfd.unix.sp-mem.kvm');
    expect(parseCellName(cellName(both), def.axes)).toEqual(both);
    expect(() => parseCellName('v6.q35.ovmf-sid.bookworm-6.1.memfd.unix.hvf', def.axes)).toThrow(/expected a/);
  });

  it('runs kvm cells only where /dev/kvm is usable, and lists them with the reason everywhere else', () => {
    const plain = planMatrix(def, { allCases: all, unavailable: unavailableFor('tcg', usable) });
    expect(plain.cells.every((c) => c.cell.accel === 'tcg')).toBe(true);
    const kvmNames = planMatrix(def, { allCases: all, unavailable: unavailableFor('auto', usable) }).cells.filter((c) => c.cell.accel === 'kvm').map((c) => c.name);
    expect(kvmNames.length).toBeGreaterThan(0);
    expect(plain.unavailable.map((u) => u.name)).toEqual(kvmNames);
    expect(plain.unavailable[0]?.reason).toMatch(/--accel tcg \(the default\) runs only tcg cells/);

    const noDevice = planMatrix(def, { allCases: all, unavailable: unavailableFor('auto', missing) });
    expect(noDevice.cells.map((c) => c.name)).toEqual(plain.cells.map((c) => c.name));
    expect(noDevice.unavailable).toEqual(kvmNames.map((name) => ({ name, reason: '/dev/kvm does not exist' })));

    const onlyKvm = planMatrix(def, { allCases: all, unavailable: unavailableFor('kvm', usable) });
    expect(onlyKvm.cells.map((c) => c.name)).toEqual(kvmNames);
    expect(onlyKvm.unavailable).toHaveLength(plain.cells.length);
  });

  it('keeps every tcg cell name as it was before the axis', () => {
    for (const c of planMatrix(def, { allCases: all, unavailable: unavailableFor('tcg', usable) }).cells) expect(c.name).not.toMatch(/\.(tcg|kvm)$/);
  });
});
