import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase } from '../../harness/case/load.ts';
import { caseFileOf } from '../../harness/run/case-lines.ts';
import { validateCase } from '../../harness/case/load.ts';
import { qemuForRun, recordedRuns } from '../../harness/run/reproduce.ts';
import { cacheRoot } from '../../harness/util/cache-dirs.ts';
import { UsageError } from '../../harness/util/errors.ts';
import { fromExactJson, toExactJson } from '../../harness/util/exact-json.ts';
import { CASES_DIR } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';
import { SEED_SPM_CASE_DATA as SEED_SPM, seedSpmEntry } from '../fixtures/report/seed-spm-entry.ts';

/*
 * Issue 22: a report.json is input from anyone (CI artifacts, a fork's pull
 * request). `reproduce` validates it like a case file before anything of it
 * reaches a path, a file name or QEMU's command line. The case data here is
 * the project's own case files as the loader reads them, which is what a run
 * records.
 */
const CASE_FILES = readdirSync(CASES_DIR).filter((f) => f.endsWith('.json')).sort();
const KEY = 'a'.repeat(64);

function report(edit: (c: Record<string, any>) => void = () => {}): unknown {
  const entry = seedSpmEntry({ binary: '/usr/local/bin/qemu-system-x86_64', buildKey: KEY });
  entry.inputs = { kernel: [{ name: 'linux-source-6.1', version: '6.1.176-1', sha256: 'b'.repeat(64) }], firmware: { name: 'ovmf', version: '2026.08-1', sha256: 'c'.repeat(64) } };
  edit(entry);
  return { schemaVersion: 2, cases: [entry] };
}

/** The one line the CLI would print for reading `r`, or 'accepted'. */
function verdictOn(r: unknown): string {
  try {
    recordedRuns(r, 'r.json');
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError); // exit 2
    return (error as UsageError).oneLine();
  }
}

describe('case data recorded in a report goes through the case-file validator', () => {
  it.each(CASE_FILES)('%s survives the round trip (rows rendered as kernel lines and read back) unchanged', async (file) => {
    const spec = await loadCase(join(CASES_DIR, file));
    const recorded = fromExactJson(toExactJson(spec));
    expect(validateCase(caseFileOf(recorded as typeof spec), file)).toEqual(spec);
  });

  it('an untouched report is accepted, and what runs is the validated case', () => {
    expect(verdictOn(report())).toBe('accepted');
    const [run] = recordedRuns(report(), 'r.json');
    expect(run?.caseSpec.expect.e820?.rows[1]).toEqual({ start: 0x280000000n, end: 0x47fffffffn, type: 0xefffffff });
  });

  it.each([
    ['a memdev id smuggled into a node', (c: Record<string, any>) => (c.caseData.nodes[0].backend = 'ram,mem-path=/etc'), /^r\.json: cases\[0\]\.caseData: nodes\[0\]\.backend must be one of ram, memfd, file; /],
    ['a raw -numa option outside a negative case', (c: Record<string, any>) => (c.caseData.nodes[1].rawNumaOptions = ['memmap-type=spm']), /^r\.json: cases\[0\]\.caseData: nodes\[1\]\.rawNumaOptions is only for negative cases/],
    ['a size that is not a size', (c: Record<string, any>) => (c.caseData.memory = '8G,share=on'), /^r\.json: cases\[0\]\.caseData: memory /],
    ['an e820 row that is not a row', (c: Record<string, any>) => (c.caseData.expect.e820.rows[0] = { start: 'x' }), /^r\.json: cases\[0\]\.caseData: expect\.e820\.lines\[0\] /],
    ['no case at all', (c: Record<string, any>) => (c.caseData = 'rm -rf /'), /^r\.json: cases\[0\]\.caseData is not a case; /],
  ])('refuses %s', (_what, edit, line) => {
    expect(verdictOn(report(edit))).toMatch(line);
  });
});

describe('the rest of a report is checked field by field', () => {
  it.each([
    ['a build key that walks out of the cache', (c: Record<string, any>) => (c.run.qemu.buildKey = `../../../../etc/${'a'.repeat(40)}`), 'cases[0].run.qemu.buildKey must be 64 lower-case hex digits'],
    ['an upper-case build key', (c: Record<string, any>) => (c.run.qemu.buildKey = 'A'.repeat(64)), 'cases[0].run.qemu.buildKey must be 64 lower-case hex digits'],
    ['a firmware directory of its own', (c: Record<string, any>) => (c.run.qemu.firmwareDirs = ['/tmp/evil']), 'cases[0].run.qemu.firmwareDirs[0] must be one of /usr/share/seabios, /usr/share/qemu or a directory in the cache'],
    ['a firmware directory that climbs out of the cache', (c: Record<string, any>) => (c.run.qemu.firmwareDirs = [`${cacheRoot()}/../../tmp`]), 'cases[0].run.qemu.firmwareDirs[0] must be one of'],
    ['a label that is a path', (c: Record<string, any>) => (c.run.qemu.label = '../../x'), 'cases[0].run.qemu.label must be a label'],
    ['a cell qemu that is a path', (c: Record<string, any>) => (c.qemu = '/etc/passwd'), 'cases[0].qemu must be a label'],
    ['an unknown firmware id', (c: Record<string, any>) => (c.firmware = 'ovmf-evil'), 'cases[0].firmware must be a firmware id'],
    ['an unknown kernel id', (c: Record<string, any>) => (c.kernel = '../kernel'), 'cases[0].kernel must be a kernel id'],
    ['an unknown machine', (c: Record<string, any>) => (c.machine = 'q35,accel=kvm'), 'cases[0].machine must be one of q35, pc'],
    ['an unknown transport', (c: Record<string, any>) => (c.run.transport = 'tcp'), 'cases[0].run.transport must be one of unix, websocket'],
    ['an unknown backend', (c: Record<string, any>) => (c.run.backend = 'file,mem-path=/'), 'cases[0].run.backend must be one of ram, memfd, file'],
    ['an unknown profile', (c: Record<string, any>) => (c.run.profile = 'v99'), 'cases[0].run.profile must be one of'],
    ['a name other than the case data says', (c: Record<string, any>) => (c.name = 'other'), "cases[0].name must be the recorded case's name 'seed-spm'"],
    ['a package sha256 that is not one', (c: Record<string, any>) => (c.inputs.firmware.sha256 = 'zz'), 'cases[0].inputs.firmware.sha256 must be 64 lower-case hex digits'],
    ['findings that are not findings', (c: Record<string, any>) => (c.findings = [{ aspect: 1 }]), 'cases[0].findings[0] must be {aspect, check, ok}'],
  ])('refuses %s', (_what, edit, field) => {
    const line = verdictOn(report(edit));
    expect(line.startsWith(`r.json: ${field}`), line).toBe(true);
    expect(line.split('\n')).toHaveLength(1);
  });

  it('a firmware directory inside the cache is accepted (a debian-bin QEMU carries its own)', () => {
    expect(verdictOn(report((c) => (c.run.qemu.firmwareDirs = [join(cacheRoot(), 'qemu-bin', KEY, 'root', 'usr', 'share', 'qemu')])))).toBe('accepted');
  });
});

describe("the QEMU a reproduction runs: from the cache by key or --qemu, never the report's path", { timeout: scaledMs(60_000) }, () => {
  it('a recorded binary that exists and is executable is not run when the key is not in the cache', async () => {
    const [run] = recordedRuns(report((c) => (c.run.qemu.binary = process.execPath)), 'r.json');
    const error = await qemuForRun(run as NonNullable<typeof run>, undefined).catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/^the QEMU of seed-spm@patched-v5\.q35\.ovmf-sid\.minimal-6\.1: build a{16}… is not in this machine's cache \(the report's binary path is not run\)$/);
  });

  it('a report without a build key names none, and still does not run its path', async () => {
    const [run] = recordedRuns(report((c) => {
      c.run.qemu.binary = process.execPath;
      delete c.run.qemu.buildKey;
    }), 'r.json');
    const error = await qemuForRun(run as NonNullable<typeof run>, undefined).catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/the report names no build key \(the report's binary path is not run\)$/);
  });
});
