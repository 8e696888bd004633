import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { casesToRun } from '../../harness/run/execute.ts';
import { takeGlobalOptions } from '../../harness/cli/global-options.ts';
import { takeJsonOption } from '../../harness/cli/json-output.ts';
import { acceleratorOf, type Finding, type Verdict } from '../../harness/core/vocabulary.ts';
import { matrixExitStatus } from '../../harness/matrix/execute.ts';
import { deadlineAfter, remaining } from '../../harness/qmp/deadline.ts';
import { serialTail } from '../../harness/report/serial-tail.ts';
import { pickRun, recordedRuns, verdictDifferences } from '../../harness/run/reproduce.ts';
import { loadCase } from '../../harness/case/load.ts';
import { UsageError } from '../../harness/util/errors.ts';
import { toExactJson } from '../../harness/util/exact-json.ts';
import { EXIT, exitForStatuses } from '../../harness/util/exit-codes.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs, timeoutFactor } from '../../harness/util/timeouts.ts';

const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const OVMF_LOG = join(REPO_ROOT, 'test', 'fixtures', 'serial', 'bookworm-6.1-ovmf-sid-q35-two-node.log');

describe('exit statuses', () => {
  it('a failure outranks a broken run, which outranks unsupported cases', () => {
    expect(exitForStatuses(['pass', 'pass'])).toBe(EXIT.ok);
    expect(exitForStatuses([])).toBe(EXIT.ok);
    expect(exitForStatuses(['pass', 'unsupported'])).toBe(EXIT.unsupported);
    expect(exitForStatuses(['unsupported', 'error'])).toBe(EXIT.infrastructure);
    expect(exitForStatuses(['error', 'fail', 'unsupported'])).toBe(EXIT.failed);
    expect(Object.values(EXIT)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a matrix: 1 for a failed or changed row, 3 for a broken one, else 0', () => {
    expect(matrixExitStatus([{ outcome: 'pass' }])).toBe(0);
    expect(matrixExitStatus([{ outcome: 'pass' }, { outcome: 'error' }])).toBe(3);
    expect(matrixExitStatus([{ outcome: 'error' }, { outcome: 'changed' }])).toBe(1);
    expect(matrixExitStatus([{ outcome: 'fail' }])).toBe(1);
  });
});

describe('--json [FILE]', () => {
  it('alone is stdout; a following *.json (or --json=FILE) is the file; anything else stays an argument', () => {
    expect(takeJsonOption(['parse', 'a.log'])).toEqual({ args: ['parse', 'a.log'] });
    expect(takeJsonOption(['--json'])).toEqual({ args: [], json: { to: 'stdout' } });
    expect(takeJsonOption(['--json', 'saved.log'])).toEqual({ args: ['saved.log'], json: { to: 'stdout' } });
    expect(takeJsonOption(['--json', '--list'])).toEqual({ args: ['--list'], json: { to: 'stdout' } });
    expect(takeJsonOption(['--json', '-'])).toEqual({ args: [], json: { to: 'stdout' } });
    expect(takeJsonOption(['--json', '/tmp/out.json', 'x'])).toEqual({ args: ['x'], json: { to: 'file', path: '/tmp/out.json' } });
    expect(takeJsonOption(['--json=/tmp/out.txt'])).toEqual({ args: [], json: { to: 'file', path: '/tmp/out.txt' } });
  });

  it('twice, or with an empty file name, is a usage error', () => {
    expect(() => takeJsonOption(['--json', '--json'])).toThrow(UsageError);
    expect(() => takeJsonOption(['--json='])).toThrow(/--json= needs a file name/);
  });
});

describe('global options and environment overrides', () => {
  afterEach(() => {
    delete process.env.MEMMAP_HARNESS_TIMEOUT_FACTOR;
  });

  it('each flag sets its variable; the rest is returned in order', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(takeGlobalOptions(['--offline', 'run', '--keep-scratch', '--timeout-factor', '2.5', '--case', 'x'], env)).toEqual(['run', '--case', 'x']);
    expect(env).toEqual({ MEMMAP_HARNESS_OFFLINE: '1', MEMMAP_HARNESS_KEEP_SCRATCH: '1', MEMMAP_HARNESS_TIMEOUT_FACTOR: '2.5' });
    expect(() => takeGlobalOptions(['--timeout-factor'], {})).toThrow(UsageError);
    expect(() => takeGlobalOptions(['run'], { MEMMAP_HARNESS_TIMEOUT_FACTOR: '0' })).toThrow(/must be a positive number, not '0'/);
  });

  it('the timeout factor scales every bound once: a deadline chain shares one scaled budget', () => {
    expect(timeoutFactor({})).toBe(1);
    process.env.MEMMAP_HARNESS_TIMEOUT_FACTOR = '3';
    expect(scaledMs(1000)).toBe(3000);
    const deadline = deadlineAfter(10_000);
    expect(deadline - Date.now()).toBeGreaterThan(29_000);
    // What is left is handed on unscaled; the next wait scales it back to the real time left.
    expect(remaining(deadline)).toBeGreaterThan(9_900);
    expect(remaining(deadline)).toBeLessThanOrEqual(10_000);
    expect(scaledMs(remaining(deadline))).toBeGreaterThan(29_000);
  });
});

describe('report helpers', () => {
  it('acceleratorOf reads -accel and -machine accel=', () => {
    expect(acceleratorOf(['qemu', '-machine', 'q35', '-accel', 'tcg', '-m', '1G'])).toBe('tcg');
    expect(acceleratorOf(['qemu', '-accel', 'kvm,kernel-irqchip=split'])).toBe('kvm');
    expect(acceleratorOf(['qemu', '-M', 'q35,accel=kvm:tcg'])).toBe('kvm');
    expect(acceleratorOf(['qemu', '-M', 'q35'])).toBeUndefined();
  });

  it("serialTail keeps a real OVMF log's last lines without escape sequences", async () => {
    const lines = readFileSync(OVMF_LOG, 'latin1').replace(/\r/g, '').trimEnd().split('\n');
    const tail = (await serialTail(OVMF_LOG, 60)) as string;
    expect(tail.split('\n')).toHaveLength(60);
    expect(tail.split('\n').at(-1)).toBe(lines.at(-1));
    expect(readFileSync(OVMF_LOG, 'latin1')).toContain('\u001b');
    expect(await serialTail(OVMF_LOG, 100_000)).not.toContain('\u001b');
    expect(await serialTail('/nonexistent/serial.log')).toBeUndefined();
  });
});

// A report.json case as a run writes it (schema 2), cut to what reproduce reads; the case data is cases/seed-spm.json as loaded.
const SEED_SPM = toExactJson(await loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json')));
function reportWith(findings: Pick<Finding, 'aspect' | 'check' | 'ok'>[], status = 'pass'): unknown {
  const run = { qemu: { binary: '/q', label: 'patched-v5', firmwareDirs: [] }, transport: 'unix', profile: 'v5' };
  const caseData = SEED_SPM;
  const entry = { name: 'seed-spm', status, machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1', qemu: 'patched-v5', findings, run, caseData };
  return { schemaVersion: 2, cases: [entry, { ...entry, machine: 'pc' }] };
}

describe('reproduce: reading a report and comparing verdicts', () => {
  const findings: Pick<Finding, 'aspect' | 'check' | 'ok'>[] = [
    { aspect: 'e820', check: 'rows', ok: true },
    { aspect: 'srat', check: 'rows', ok: true },
  ];

  it('picks a run by CASE@CELL, refuses an ambiguous CASE, and restores bigints in the case data', () => {
    const runs = recordedRuns(reportWith(findings), 'r.json');
    const ambiguous = (() => {
      try {
        pickRun(runs, 'seed-spm', 'r.json');
      } catch (error) {
        return (error as UsageError).oneLine();
      }
    })();
    expect(ambiguous).toMatch(/^'seed-spm' names 2 runs in r\.json; give CASE@CELL: seed-spm@patched-v5\.q35/);
    expect(() => pickRun(runs, undefined, 'r.json')).toThrow(UsageError);
    const run = pickRun(runs, 'seed-spm@patched-v5.pc.ovmf-sid.minimal-6.1', 'r.json');
    expect(run.machine).toBe('pc');
    expect(run.caseSpec.expect.e820?.rows[1]).toEqual({ start: 0x280000000n, end: 0x47fffffffn, type: 0xefffffff });
  });

  it('the same status and checks reproduce; a flipped check or status does not', () => {
    const run = pickRun(recordedRuns(reportWith(findings), 'r.json'), 'seed-spm@patched-v5.q35.ovmf-sid.minimal-6.1', 'r.json');
    const verdict = (status: Verdict['status'], now: typeof findings): Verdict => ({ name: 'seed-spm', status, machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1', qemu: 'patched-v5', findings: now.map((f) => ({ ...f, detail: [] })), e820: [], srat: [], durationMs: 1 });
    expect(verdictDifferences(run, verdict('pass', findings))).toEqual([]);
    expect(verdictDifferences(run, verdict('fail', [findings[0] as (typeof findings)[number], { aspect: 'srat', check: 'rows', ok: false }]))).toEqual(['status: pass in the report, fail now', 'srat: rows: held in the report, fails now']);
    expect(verdictDifferences(run, { ...verdict('error', []), reason: 'QEMU refused to start' })).toEqual(['status: pass in the report, error now (QEMU refused to start)']);
  });

  it('a report without schema 2 or without cases is a usage error', () => {
    expect(() => recordedRuns({ cases: [] }, 'old.json')).toThrow(/old\.json has report schema 1/);
    expect(() => recordedRuns({ hello: 1 }, 'x.json')).toThrow(/x\.json is not a memmap-harness report\.json/);
  });
});

// Each spawns node + tsx: seconds each on a loaded two-core machine.
describe('the CLI', { timeout: scaledMs(180_000) }, () => {
  it('--version names the package version and the commit; --help lists exit statuses, overrides and --json', async () => {
    const version = await execa('node', [CLI, '--version']);
    expect(version.stdout).toMatch(/^memmap-harness 0\.1\.0 \(commit [0-9a-f]{40}(, with local changes)?\)$/);
    const help = await execa('node', [CLI, '--help']);
    for (const text of ['4  nothing failed, but some cases were unsupported', 'MEMMAP_HARNESS_TIMEOUT_FACTOR=N', 'MEMMAP_HARNESS_KEEP_SCRATCH=1', 'MEMMAP_HARNESS_QEMU=PATH', '--json FILE.json', 'reproduce']) {
      expect(help.stdout).toContain(text);
    }
  });

  it('a bad option or an unknown command exits 2 with one line', async () => {
    const cases = [['run', '--bogus'], ['frobnicate'], ['--timeout-factor', 'slow', 'run'], ['matrix', '--filter', 'colour=blue']];
    const results = await Promise.all(cases.map((args) => execa('node', [CLI, ...args], { reject: false })));
    results.forEach((result, i) => {
      const what = cases[i]?.join(' ');
      expect(result.exitCode, what).toBe(2);
      expect(result.stderr.trim().split('\n'), what).toHaveLength(1);
    });
  });
});

describe('run names at least one case', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a set that names no case is a usage error before anything runs; a set that names one loads it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'memmap-harness-empty-set-'));
    await mkdir(join(dir, 'sets'));
    await writeFile(join(dir, 'sets', 'empty.json'), '{"cases": []}\n');
    await writeFile(join(dir, 'sets', 'one.json'), '{"cases": ["seed-spm"]}\n');
    await copyFile(join(REPO_ROOT, 'cases', 'seed-spm.json'), join(dir, 'seed-spm.json'));
    const empty = casesToRun(dir, { cases: [], set: 'empty' });
    await expect(empty).rejects.toThrow(UsageError);
    await expect(empty).rejects.toThrow("run: the 'empty' set names no case: nothing to run");
    expect((await casesToRun(dir, { cases: [], set: 'one' })).cases.map((c) => c.name)).toEqual(['seed-spm']);
  });
});
