import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect } from 'vitest';
import { integrationTest as it } from './fixtures.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// A real run writes report.json; one of its case runs is made again on this
// machine from that file alone (the run's results directory is gone by then).
const MINUTES = 60_000;

interface ReportJson {
  schemaVersion: number;
  harness: { version: string; commit?: string };
  host: { kernel: string; distro: string; cpus: number; node: string };
  cases: {
    name: string;
    status: string;
    inputs: { kernel: { name: string; version: string; sha256: string }[]; firmware: { name: string; version: string; sha256: string } };
    run: { qemu: { binary: string; version: string; buildKey: string }; qemuArgv: string[]; accelerator: string; transport: string };
    caseData: { name: string };
    serialLog: string;
  }[];
}

describe('report.json is enough to reproduce a case run', () => {
  it('records the metadata, and `reproduce` makes the run again from it alone', async ({ cli, workDir, bed }) => {
    const first = join(workDir, 'first');
    const run = await cli(['run', '--case', 'seed-spm', '--results', first], 10 * MINUTES);
    expect(run.exitCode, run.all).toBe(0);
    const text = await readFile(join(first, 'report.json'), 'utf8');
    const report = JSON.parse(text) as ReportJson;
    expect(report.schemaVersion).toBe(2);
    expect(report.harness.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(report.host).toMatchObject({ distro: expect.stringMatching(/Debian/), cpus: expect.any(Number), node: process.version });
    const [seed] = report.cases;
    expect(seed?.status).toBe('pass');
    expect(seed?.run.qemu).toMatchObject({ binary: bed.qemuV5, version: '10.2.2', buildKey: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(seed?.run.qemuArgv[0]).toBe(bed.qemuV5);
    expect(seed?.run.qemuArgv).toContain('-numa');
    expect(seed?.run.accelerator).toBe('tcg');
    expect(seed?.inputs.firmware.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(seed?.caseData.name).toBe('seed-spm');

    // JUnit's <system-out> carries the end of the boot, not only the log's path.
    const junit = new XMLParser({ ignoreAttributes: false }).parse(await readFile(join(first, 'junit.xml'), 'utf8')) as { testsuites: { testsuite: { testcase: { 'system-out': string } } } };
    const out = junit.testsuites.testsuite.testcase['system-out'];
    const serialLines = (await readFile(seed?.serialLog as string, 'latin1')).trimEnd().split('\n');
    expect(out).toContain(`serial log: ${seed?.serialLog}`);
    expect(out.trimEnd().split('\n').at(-1)).toBe(serialLines.at(-1)?.replace(/\r/g, '').trimEnd());
    expect(out.split('\n').length).toBeLessThanOrEqual(61);

    // Only the report survives.
    const kept = join(workDir, 'kept-report.json');
    await copyFile(join(first, 'report.json'), kept);
    await rm(first, { recursive: true, force: true });
    const again = await cli(['reproduce', kept, 'seed-spm', '--results', join(workDir, 'again'), '--json', join(workDir, 'again.json')], 10 * MINUTES);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toMatch(/^REPRODUCED seed-spm@patched-v5\.q35\.ovmf-sid\.minimal-6\.1: pass/m);
    expect(again.stdout).toContain("inputs: the report's kernel and firmware packages (same versions and sha256)");
    expect(JSON.parse(await readFile(join(workDir, 'again.json'), 'utf8'))).toMatchObject({ recorded: 'pass', now: 'pass', reproduced: true, differences: [] });

    // A QEMU that is nowhere on this machine: one line, exit 3, nothing booted.
    const lost = JSON.parse(text) as ReportJson;
    for (const c of lost.cases) Object.assign(c.run.qemu, { binary: join(workDir, 'gone', 'qemu-system-x86_64'), buildKey: '0'.repeat(64) });
    await writeFile(join(workDir, 'lost.json'), JSON.stringify(lost));
    const missing = await cli(['reproduce', join(workDir, 'lost.json'), '--results', join(workDir, 'lost')], 2 * MINUTES);
    expect(missing.exitCode).toBe(3);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^memmap-harness: the QEMU of seed-spm@patched-v5\.q35\.ovmf-sid\.minimal-6\.1: build 0{16}… is not in this machine's cache \(the report's binary path is not run\); /)]);
  }, scaledMs(25 * MINUTES));

  it('a failed run keeps its scratch directory on request, and reproduces as the same failure', async ({ cli, workDir }) => {
    // The v5 build judged as v6: v6 refuses memmap-type without memdev, v5 starts, so the refusal check fails.
    const failed = join(workDir, 'failed');
    const run = await cli(['--keep-scratch', 'run', '--case', 'negative-memmap-type-without-memdev', '--profile', 'v6', '--results', failed], 10 * MINUTES);
    expect(run.exitCode, run.all).toBe(1);
    const report = JSON.parse(await readFile(join(failed, 'report.json'), 'utf8')) as { cases: { status: string; scratchDir?: string }[] };
    const scratch = report.cases[0]?.scratchDir as string;
    try {
      expect(report.cases[0]?.status).toBe('fail');
      expect(run.stderr).toContain(`memmap-harness: kept the scratch directory of negative-memmap-type-without-memdev (fail): ${scratch}`);
      expect((await stat(scratch)).isDirectory()).toBe(true);
      // Without its owner mark the next run's sweeper leaves it alone.
      expect(await readdir(scratch)).not.toContain('.memmap-harness-lock');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    const again = await cli(['reproduce', join(failed, 'report.json'), '--results', join(workDir, 'failed-again')], 10 * MINUTES);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stdout).toMatch(/^REPRODUCED negative-memmap-type-without-memdev@patched-v5\.q35\.seabios-bookworm\.bookworm-6\.1: fail, as the report says/m);
  }, scaledMs(25 * MINUTES));

  it('a report from before schema 2 is a usage error in one line', async ({ cli, workDir }) => {
    await mkdir(join(workDir, 'old'), { recursive: true });
    await writeFile(join(workDir, 'old', 'report.json'), JSON.stringify({ cases: [{ name: 'seed-spm', status: 'pass' }] }));
    const result = await cli(['reproduce', join(workDir, 'old', 'report.json')], 2 * MINUTES);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/has report schema 1, which does not record how its runs were made/)]);
  }, scaledMs(5 * MINUTES));
});
