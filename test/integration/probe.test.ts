import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { ensureDebianBinQemu, type DebianBinManifest } from '../../harness/qemu-build/debian-bin.ts';
import { silentReporter } from '../../harness/host/progress.ts';
import { cacheArea } from '../../harness/util/cache-dirs.ts';
import { probeInterfaces } from '../../harness/interface/detect.ts';
import { packageField } from '../../harness/util/apt.ts';
import { testbed } from './testbed.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// The interface probe on real binaries: our baseline, v5 and v6 builds (from the
// global setup) and Debian sid's QEMU 11.1 taken from its binary packages.
const SID_SPEC = 'debian-bin:qemu-system-x86@sid';
const cli = join(REPO_ROOT, 'bin', 'memmap-harness.js');
let sid: DebianBinManifest;
let results: string;

beforeAll(async () => {
  // Cold: debootstrap --download-only and unpacking, a few minutes; warm: a manifest read and an apt-cache lookup.
  sid = (await ensureDebianBinQemu(SID_SPEC, { reporter: silentReporter })).manifest;
  results = await mkdtemp(join(tmpdir(), 'memmap-harness-probe-'));
});

afterAll(async () => {
  await rm(results, { recursive: true, force: true });
});

/** "11.1.3" → [11, 1, 3]. */
function versionParts(version: string): number[] {
  return version.split('.').map((p) => Number.parseInt(p, 10));
}

describe('probe classifies each real binary', () => {
  it('baseline: no memmap-type, no sp-mem', async () => {
    const bed = testbed();
    const report = await probeInterfaces(bed.qemuBaseline, { firmwareDirs: bed.firmwareDirs });
    expect(report).toMatchObject({ qemuVersion: '10.2.2', interfaces: { memmapType: 'absent', spMem: 'absent' }, profile: 'baseline' });
  });

  it('v5: memmap-type without the memdev requirement', async () => {
    const bed = testbed();
    const report = await probeInterfaces(bed.qemuV5, { firmwareDirs: bed.firmwareDirs });
    expect(report).toMatchObject({ interfaces: { memmapType: 'v5-like', spMem: 'absent' }, profile: 'v5' });
  });

  it('v6: memmap-type requiring memdev', async () => {
    const bed = testbed();
    const report = await probeInterfaces(bed.qemuV6, { firmwareDirs: bed.firmwareDirs });
    expect(report).toMatchObject({ interfaces: { memmapType: 'v6-like', spMem: 'absent' }, profile: 'v6' });
    expect(report.evidence.find((e) => e.probe === 'memmap-type-without-memdev')?.observed).toContain('requires memdev');
  });

  it("Debian sid's QEMU >= 11.1: -device sp-mem, no memmap-type", async () => {
    const report = await probeInterfaces(sid.binary, { firmwareDirs: sid.firmwareDirs });
    expect(report).toMatchObject({ interfaces: { memmapType: 'absent', spMem: 'present' }, profile: 'upstream-11.1' });
    const [major = 0, minor = 0] = versionParts(report.qemuVersion ?? '');
    expect(major * 100 + minor).toBeGreaterThanOrEqual(1101);
    expect(report.evidence.find((e) => e.probe === 'sp-mem-properties')?.observed).toMatch(/memdev.*node/);
  });
});

describe("the debian-bin entry for sid's qemu-system-x86", () => {
  it('records the exact version and the archive’s sha256 of the .deb', async () => {
    expect(sid).toMatchObject({ kind: 'debian-bin', package: 'qemu-system-x86', suite: 'sid', label: `debian-bin-${sid.qemuVersion}` });
    expect(sid.version).toMatch(/^\d+:\d+\.\d+\.\d+\+ds-\S+$/);
    expect(sid.unpacked).toContain(`qemu-system-x86=${sid.version}`);
    expect(sid.deb.sha256).toBe(await packageField(`qemu-system-x86=${sid.version}`, 'SHA256'));
  });

  it('holds a small root (no docs, no downloads) and nothing half-made beside it', async () => {
    const missing = async (path: string) => access(path).then(() => false, () => true);
    expect(await missing(join(sid.root, 'usr', 'share', 'doc'))).toBe(true);
    expect(await missing(join(sid.root, '..', 'download'))).toBe(true);
    expect((await readdir(cacheArea('qemu-bin'))).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  });

  it('is a cache hit the second time, and pinning the resolved version finds the same entry', async () => {
    const again = await ensureDebianBinQemu(`debian-bin:qemu-system-x86=${sid.version}@sid`, { reporter: silentReporter });
    expect(again).toEqual({ manifest: sid, cacheHit: true });
  });

  it('runs from any working directory through its wrapper', async () => {
    const { stdout } = await execa(sid.binary, ['--version'], { cwd: '/', timeout: scaledMs(30_000) });
    expect(stdout).toContain(`QEMU emulator version ${sid.qemuVersion}`);
  });
});

describe('the CLI', () => {
  it('build --source debian-bin: --json prints the manifest', async () => {
    const { stdout } = await execa('node', [cli, 'build', '--source', SID_SPEC, '--json'], { timeout: scaledMs(120_000) });
    expect(JSON.parse(stdout)).toEqual({ ...sid, cacheHit: true });
  });

  it('build refuses a series for a binary package in one line', async () => {
    const result = await execa('node', [cli, 'build', '--source', SID_SPEC, '--patches', 'patches/memmap-type/v5'], { reject: false, timeout: scaledMs(60_000) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('is a binary package: the series');
  });

  it('probe --json classifies with evidence; the exit status still says memmap-type or not', async () => {
    const bed = testbed();
    const v6 = await execa('node', [cli, 'probe', '--qemu', bed.qemuV6, '--json'], { reject: false, timeout: scaledMs(120_000) });
    expect(v6.exitCode).toBe(0);
    expect(JSON.parse(v6.stdout)).toMatchObject({ interfaces: { memmapType: 'v6-like', spMem: 'absent' }, profile: 'v6', verdict: 'supported' });
    const sidProbe = await execa('node', [cli, 'probe', '--source', SID_SPEC, '--json'], { reject: false, timeout: scaledMs(120_000) });
    expect(sidProbe.exitCode).toBe(4);
    const report = JSON.parse(sidProbe.stdout) as { interfaces: unknown; evidence: { probe: string }[] };
    expect(report.interfaces).toEqual({ memmapType: 'absent', spMem: 'present' });
    expect(report.evidence.map((e) => e.probe)).toEqual(['version', 'device-help', 'sp-mem-properties', 'qmp-schema', 'memmap-type-with-memdev']);
  });

  it('probe prints the classes, the profile and one evidence line per probe', async () => {
    const { stdout } = await execa('node', [cli, 'probe', '--qemu', testbed().qemuV5], { reject: false, timeout: scaledMs(120_000) });
    expect(stdout).toContain('interfaces: memmap-type without the memdev requirement (v5-like)');
    expect(stdout).toMatch(/profile: +v5 \(QEMU accepts memmap-type on a memdev node and on a node without memdev\)/);
    expect(stdout).toMatch(/memmap-type-without-memdev +accepted/);
  });

  it('run --qemu without --profile takes the probed profile and says why', async () => {
    const args = ['run', '--qemu', testbed().qemuV5, '--case', 'negative-memmap-type-without-memdev', '--results', join(results, 'v5')];
    const { stdout, exitCode } = await execa('node', [cli, ...args], { reject: false, timeout: scaledMs(120_000) });
    expect(stdout).toContain('revision profile: v5 (probed: memmap-type without the memdev requirement (v5-like) → profile v5: ');
    expect(stdout).toContain('skipped     negative-memmap-type-without-memdev  (about revisions v6, not v5)');
    expect(exitCode).toBe(0);
  });

  it('run --profile wins over the probe, which is still shown when it disagrees', async () => {
    const args = ['run', '--qemu', testbed().qemuV6, '--profile', 'v5', '--case', 'negative-memmap-type-without-memdev', '--results', join(results, 'v6-as-v5')];
    const { stdout } = await execa('node', [cli, ...args], { reject: false, timeout: scaledMs(120_000) });
    expect(stdout).toContain('revision profile: v5 (--profile; note: probed: memmap-type requiring memdev (v6-like) → profile v6: ');
    expect(stdout).toContain('skipped     negative-memmap-type-without-memdev  (about revisions v6, not v5)');
  });

  it("run --source debian-bin: boots the seed's normal case on sid's QEMU and calls memmap-type unsupported", async () => {
    const args = ['run', '--source', SID_SPEC, '--case', 'seed-normal', '--case', 'negative-baseline-memmap-type', '--results', join(results, 'sid')];
    const { stdout, exitCode } = await execa('node', [cli, ...args], { reject: false, timeout: scaledMs(600_000) });
    expect(stdout).toContain(`QEMU under test: ${sid.label} (${sid.binary})`);
    expect(stdout).toContain('revision profile: upstream-11.1 (probed: no memmap-type + -device sp-mem → profile upstream-11.1: ');
    expect(stdout).toMatch(/^PASS +seed-normal /m);
    expect(stdout).toMatch(/^UNSUPPORTED +negative-baseline-memmap-type /m);
    expect(exitCode).toBe(4);
    expect(await readdir(join(results, 'sid'))).toContain(`seed-normal@${sid.label}.q35.ovmf-sid.minimal-6.1.serial.log`);
  });
});
