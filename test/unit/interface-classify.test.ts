import { describe, expect, it } from 'vitest';
import { memmapVerdict } from '../../harness/interface/memmap-support.ts';
import { classifyInterfaces, deviceNames, deviceProperties, dryStart, errorText, schemaFacts } from '../../harness/interface/classify.ts';
import type { ProbeName, ProbeRun } from '../../harness/interface/probe-runs.ts';
import { loadProfiles, type RevisionProfile } from '../../harness/traits/profiles.ts';
import { loadProbeRuns } from '../fixtures/probe/load.ts';

// Every run below was captured from a real binary (test/fixtures/probe/README.md);
// mixed classes are built by combining runs of different real binaries.
const baseline = loadProbeRuns('baseline-10.2.2');
const v5 = loadProbeRuns('v5-10.2.2');
const v6 = loadProbeRuns('v6-10.2.2');
const sid = loadProbeRuns('debian-bin-sid-11.1.3');
const profiles = loadProfiles();

function classify(runs: readonly ProbeRun[], with_: readonly RevisionProfile[] = profiles) {
  return classifyInterfaces('/path/to/qemu', runs, with_);
}

function run(runs: readonly ProbeRun[], probe: ProbeName): ProbeRun {
  const found = runs.find((r) => r.probe === probe);
  if (!found) throw new Error(`fixture has no ${probe} run`);
  return found;
}

/** `runs` with some probes taken from other captures (or dropped). */
function mix(runs: readonly ProbeRun[], replace: readonly ProbeRun[], drop: readonly ProbeName[] = []): ProbeRun[] {
  const names = new Set([...replace.map((r) => r.probe), ...drop]);
  return [...runs.filter((r) => !names.has(r.probe)), ...replace];
}

describe('classifying the real binaries', () => {
  it('baseline 10.2.2: no memmap-type, no sp-mem → profile baseline', () => {
    const report = classify(baseline);
    expect(report).toMatchObject({ qemuVersion: '10.2.2', interfaces: { memmapType: 'absent', spMem: 'absent' }, profile: 'baseline', summary: 'no memmap-type' });
    expect(report.profileReason).toBe('QEMU refuses -numa node,memmap-type as an unknown parameter');
    expect(report.evidence.map((e) => e.probe)).toEqual(['version', 'device-help', 'qmp-schema', 'memmap-type-with-memdev']);
    expect(report.evidence.find((e) => e.probe === 'memmap-type-with-memdev')?.observed).toMatch(/^refused \(exit 1\): .*Invalid parameter 'memmap-type'/);
  });

  it('v5: memmap-type with and without memdev → profile v5', () => {
    const report = classify(v5);
    expect(report).toMatchObject({ qemuVersion: '10.2.2', interfaces: { memmapType: 'v5-like', spMem: 'absent' }, profile: 'v5' });
    expect(report.summary).toBe('memmap-type without the memdev requirement (v5-like)');
    expect(report.evidence.find((e) => e.probe === 'memmap-type-without-memdev')?.observed).toBe('accepted: QEMU started paused and quit over QMP');
  });

  it('v6: memmap-type refused without memdev, naming memdev → profile v6', () => {
    const report = classify(v6);
    expect(report).toMatchObject({ interfaces: { memmapType: 'v6-like', spMem: 'absent' }, profile: 'v6' });
    expect(report.summary).toBe('memmap-type requiring memdev (v6-like)');
    expect(report.evidence.find((e) => e.probe === 'memmap-type-without-memdev')?.observed).toMatch(/^refused \(exit 1\): .*memmap-type requires memdev$/);
    // QEMU's error line, not the hint it prints after it.
    expect(dryStart(run(v6, 'memmap-type-without-memdev'))).toEqual({ kind: 'refused', message: 'qemu-system-x86_64: -numa node,nodeid=1,memmap-type=spm: Parameter -numa node,memmap-type requires memdev' });
  });

  it("Debian sid's 11.1.3: no memmap-type, -device sp-mem → profile upstream-11.1 (not the baseline, which lacks sp-mem)", () => {
    const report = classify(sid);
    expect(report).toMatchObject({ qemuVersion: '11.1.3', interfaces: { memmapType: 'absent', spMem: 'present' }, profile: 'upstream-11.1', summary: 'no memmap-type + -device sp-mem' });
    expect(report.profileReason).toBe('QEMU refuses -numa node,memmap-type as an unknown parameter and has -device sp-mem');
    expect(report.evidence.find((e) => e.probe === 'sp-mem-properties')?.observed).toBe('sp-mem properties: addr, memdev, node');
  });
});

describe('combinations and doubtful evidence', () => {
  it('v6-like memmap-type together with sp-mem', () => {
    const both = mix(v6, [run(sid, 'device-help'), run(sid, 'sp-mem-properties')]);
    expect(classify(both)).toMatchObject({ interfaces: { memmapType: 'v6-like', spMem: 'present' }, profile: 'v6', summary: 'memmap-type requiring memdev (v6-like) + -device sp-mem' });
    expect(classify(both).profileReason).toMatch(/it also has -device sp-mem, which profile v6 does not describe$/);
  });

  it('an sp-mem whose help lacks memdev and node is still listed, and says so', () => {
    const withoutProps = mix(sid, [{ ...run(sid, 'sp-mem-properties'), stdout: run(sid, 'sp-mem-properties').stdout.split('\n').filter((l) => !/memdev|node/.test(l)).join('\n') }]);
    expect(classify(withoutProps).summary).toBe('no memmap-type + -device sp-mem (its help lists no memdev/node)');
  });

  it('a refusal of memmap-type that the schema contradicts is undetermined, not absent', () => {
    const contradiction = mix(baseline, [run(v5, 'qmp-schema')]);
    const report = classify(contradiction);
    expect(report.interfaces.memmapType).toBe('undetermined');
    expect(report.profile).toBeUndefined();
    expect(report.profileReason).toMatch(/could not tell .*; give --profile$/);
  });

  it('a dry start that fails for another reason: the schema decides absent, else undetermined', () => {
    // The stderr line is the old capability probe's captured refusal when the BIOS was missing.
    const noBios = { ...run(baseline, 'memmap-type-with-memdev'), stderr: "qemu-system-x86_64: could not load PC BIOS 'bios-256k.bin'" };
    expect(dryStart(noBios)).toEqual({ kind: 'refused', message: "qemu-system-x86_64: could not load PC BIOS 'bios-256k.bin'" });
    expect(classify(mix(baseline, [noBios])).interfaces.memmapType).toBe('absent');
    expect(classify(mix(v5, [noBios], ['memmap-type-without-memdev'])).interfaces.memmapType).toBe('undetermined');
    expect(classify(mix(baseline, [noBios], ['qmp-schema'])).interfaces.memmapType).toBe('undetermined');
  });

  it('a memdev probe that timed out leaves the revision open', () => {
    const timedOut: ProbeRun = { ...run(v6, 'memmap-type-without-memdev'), exitCode: undefined, stdout: '', stderr: '', failure: 'qemu-system-x86_64 … timed out after 30 s and was killed' };
    const report = classify(mix(v6, [timedOut]));
    expect(report.interfaces.memmapType).toBe('present');
    expect(report.profile).toBeUndefined();
    expect(report.evidence.find((e) => e.probe === 'memmap-type-without-memdev')?.observed).toBe('did not finish: qemu-system-x86_64 … timed out after 30 s and was killed');
  });

  it('a refusal without memdev whose message does not name memdev is not taken for v6 (the echoed option does not count)', () => {
    // "qemu-system-x86_64: -numa node,nodeid=0,memdev=m0,memmap-type=normal: Invalid parameter 'bogus'"
    const stderr = run(baseline, 'memmap-type-with-memdev').stderr.replace("'memmap-type'", "'bogus'");
    expect(stderr).toContain('memdev=m0');
    expect(errorText(stderr.trim())).toBe("Invalid parameter 'bogus'");
    const other = { ...run(v6, 'memmap-type-without-memdev'), stderr };
    expect(classify(mix(v6, [other])).interfaces.memmapType).toBe('present');
  });

  it('a device list that could not be read leaves sp-mem undetermined', () => {
    const failed: ProbeRun = { ...run(sid, 'device-help'), exitCode: undefined, stdout: '', failure: 'timed out' };
    expect(classify(mix(sid, [failed], ['sp-mem-properties'])).interfaces.spMem).toBe('undetermined');
  });

  it('matches behaviour to the profiles given, and says when none describes it', () => {
    const withoutV6 = profiles.filter((p) => p.id !== 'v6');
    const report = classify(v6, withoutV6);
    expect(report.profile).toBeUndefined();
    expect(report.profileReason).toMatch(/no revision profile describes that; give --profile$/);
  });
});

describe('reading the captured outputs', () => {
  it('finds -numa node options and memory-device kinds in query-qmp-schema by following masked names', () => {
    expect(schemaFacts(run(baseline, 'qmp-schema').stdout)).toMatchObject({ numaNodeMembers: ['nodeid', 'cpus', 'mem', 'memdev', 'initiator'], memmapTypeValues: undefined });
    expect(schemaFacts(run(v5, 'qmp-schema').stdout)).toMatchObject({ numaNodeMembers: expect.arrayContaining(['memdev', 'memmap-type']), memmapTypeValues: ['normal', 'spm', 'reserved'] });
    const sidSchema = schemaFacts(run(sid, 'qmp-schema').stdout);
    expect(sidSchema.memoryDeviceKinds).toContain('sp-mem');
    expect(schemaFacts(run(baseline, 'qmp-schema').stdout).memoryDeviceKinds).not.toContain('sp-mem');
    expect(schemaFacts('{"QMP": {}}\n{"return": {}}\n')).toEqual({ numaNodeMembers: undefined, memmapTypeValues: undefined, memoryDeviceKinds: undefined });
  });

  it('lists devices and device properties', () => {
    expect(deviceNames(run(sid, 'device-help').stdout)).toContain('sp-mem');
    expect(deviceNames(run(baseline, 'device-help').stdout)).toContain('pc-dimm');
    expect(deviceNames(run(baseline, 'device-help').stdout)).not.toContain('sp-mem');
    expect(deviceProperties(run(sid, 'sp-mem-properties').stdout)).toEqual(['addr', 'memdev', 'node']);
  });
});

describe('the memmap-type yes/no for existing callers', () => {
  it('says not supported for no memmap-type, supported for either revision, undetermined otherwise', () => {
    expect(memmapVerdict(classify(baseline))).toMatchObject({ supported: false, verdict: 'not-supported', detail: expect.stringMatching(/^patch not applied: QEMU rejects -numa memmap-type \(refused/) });
    expect(memmapVerdict(classify(sid))).toMatchObject({ supported: false, verdict: 'not-supported', qemuVersion: '11.1.3' });
    expect(memmapVerdict(classify(v5))).toMatchObject({ supported: true, verdict: 'supported' });
    expect(memmapVerdict(classify(v6))).toMatchObject({ supported: true, verdict: 'supported' });
    const undetermined = classify(mix(baseline, [run(v5, 'qmp-schema')]));
    expect(memmapVerdict(undetermined)).toMatchObject({ supported: false, verdict: 'undetermined', detail: expect.stringMatching(/^QEMU did not start for another reason/) });
  });
});
