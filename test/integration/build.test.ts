import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheArea } from '../../harness/util/cache-dirs.ts';
import { DEFAULT_SERIES_DIR } from '../../harness/qemu-build/config.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { probeMemmapType } from '../../harness/interface/memmap-support.ts';
import { silentReporter } from '../../harness/host/progress.ts';
import { ensureQemu, type QemuBuild } from '../../harness/qemu-build/qemu.ts';
import { PatchApplyError } from '../../harness/source/apply.ts';
import { InterruptedError } from '../../harness/util/subprocess.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * Real builds of Debian's QEMU 10.2.2 (cold: a few minutes; afterwards cache
 * hits), then real QEMU processes: the patched binary must take memmap-type,
 * the baseline must refuse it. The builder's own machinery (publishing race,
 * interruption) is exercised with a toy source tree whose "configure" writes a
 * tiny build.ninja, so those tests cost seconds, not builds.
 */

let patched: QemuBuild;
let baseline: QemuBuild;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'build-test-'));
  patched = await ensureQemu({ patches: DEFAULT_SERIES_DIR });
  baseline = await ensureQemu({ patches: null });
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Starts QEMU paused on q35 with two 2 GiB nodes (node 1 typed as asked), quits over QMP. */
async function dryStart(build: QemuBuild, memmapType: string) {
  const m = build.manifest;
  return execa(m.binary, [
    ...m.firmwareDirs.flatMap((d) => ['-L', d]),
    '-accel', 'tcg', '-M', 'q35', '-m', '4G', '-smp', '2',
    '-object', 'memory-backend-ram,id=m0,size=2G',
    '-object', 'memory-backend-ram,id=m1,size=2G',
    '-numa', 'node,nodeid=0,cpus=0,memdev=m0',
    '-numa', `node,nodeid=1,cpus=1,memdev=m1,memmap-type=${memmapType}`,
    '-S', '-nodefaults', '-display', 'none', '-qmp', 'stdio',
  ], { input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n', reject: false, timeout: scaledMs(30_000), forceKillAfterDelay: 2_000 });
}

describe('the patched build', () => {
  it('is a patched manifest pointing at a published binary', () => {
    const m = patched.manifest;
    expect(m.patched).toBe(true);
    expect(m.series.map((p) => p.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^0001-/)]));
    expect(m.seriesHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.binary).toBe(join(cacheArea('qemu'), m.cacheKey, 'bin', 'qemu-system-x86_64'));
    expect(m.source).toMatchObject({ kind: 'debian', version: '1:10.2.2+ds-1', upstreamVersion: '10.2.2' });
    expect(m.source.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.firmwareDirs).toEqual(['/usr/share/seabios', '/usr/share/qemu']);
    expect(m.qemuVersion).toBe('10.2.2');
  });

  it('accepts memmap-type=spm', async () => {
    const result = await dryStart(patched, 'spm');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it("rejects memmap-type=bogus with QEMU's own error", async () => {
    const result = await dryStart(patched, 'bogus');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Parameter 'memmap-type' does not accept value 'bogus'/);
  });

  it('probes as supported', async () => {
    const probe = await probeMemmapType(patched.manifest.binary);
    expect(probe).toMatchObject({ supported: true, verdict: 'supported', qemuVersion: '10.2.2' });
  });
});

describe('the baseline build', () => {
  it('is the same source without a series', () => {
    const m = baseline.manifest;
    expect(m.patched).toBe(false);
    expect(m.series).toEqual([]);
    expect(m.seriesHash).toBeNull();
    expect(m.source.hash).toBe(patched.manifest.source.hash);
    expect(m.cacheKey).not.toBe(patched.manifest.cacheKey);
  });

  it('rejects memmap-type', async () => {
    const result = await dryStart(baseline, 'spm');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Invalid parameter 'memmap-type'");
  });

  it('probes as not supported: a verdict, not an exception', async () => {
    const probe = await probeMemmapType(baseline.manifest.binary);
    expect(probe).toMatchObject({ supported: false, verdict: 'not-supported', qemuVersion: '10.2.2' });
    expect(probe.detail).toMatch(/^patch not applied/);
  });
});

describe('the cache', () => {
  it('answers a second request in seconds without building', async () => {
    const started = Date.now();
    const again = await ensureQemu({ patches: DEFAULT_SERIES_DIR, reporter: silentReporter });
    expect(again.cacheHit).toBe(true);
    expect(again.manifest).toEqual(patched.manifest);
    expect(Date.now() - started).toBeLessThan(scaledMs(5_000));
  });
});

describe('a series that does not apply', () => {
  it('fails naming the patch and the source file, and leaves nothing in the cache', async () => {
    const broken = join(scratch, 'broken-series');
    await cp(DEFAULT_SERIES_DIR, broken, { recursive: true });
    const victim = (await readdir(broken)).filter((n) => n.endsWith('.patch')).sort().find((n) => /^0002-/.test(n));
    if (!victim) throw new Error('the v5 series has no 0002 patch');
    const text = await readFile(join(broken, victim), 'utf8');
    // Corrupt the first line the patch removes from hw/i386/pc.c: unlike a context line, fuzz cannot skip it.
    const pcHunk = text.indexOf('+++ b/hw/i386/pc.c');
    const removedAt = text.indexOf('\n-', text.indexOf('\n@@', pcHunk));
    expect(pcHunk).toBeGreaterThan(0);
    await writeFile(join(broken, victim), `${text.slice(0, removedAt + 2)}NOT IN QEMU ${text.slice(removedAt + 2)}`);

    const error = await ensureQemu({ patches: broken, reporter: silentReporter }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PatchApplyError);
    expect((error as PatchApplyError).patch).toBe(victim);
    expect((error as PatchApplyError).files).toEqual(['hw/i386/pc.c']);
    expect((error as PatchApplyError).failures).toEqual([{ file: 'hw/i386/pc.c', hunk: 2, line: 972, reason: 'does not fit even with fuzz 2' }]);
    expect((error as PatchApplyError).oneLine()).toContain(`patch ${victim} does not apply to debian:qemu=1:10.2.2+ds-1 (10.2.2): hw/i386/pc.c: hunk #2 (line 972)`);
    expect((await readdir(cacheArea('qemu'))).filter((n) => n.startsWith('.staging-'))).toEqual([]);
  });
});

describe('the CLI', () => {
  const cli = join(REPO_ROOT, 'bin', 'memmap-harness.js');

  it('build prints the cached binary path; --json adds cacheHit', async () => {
    const plain = await execa('node', [cli, 'build', '--no-patches'], { timeout: scaledMs(60_000) });
    expect(plain.stdout).toBe(baseline.manifest.binary);
    const json = JSON.parse((await execa('node', [cli, 'build', '--json'], { timeout: scaledMs(60_000) })).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ binary: patched.manifest.binary, patched: true, cacheKey: patched.manifest.cacheKey, cacheHit: true });
  });

  it('gives one error line for a bad source spec', async () => {
    const result = await execa('node', [cli, 'build', '--source', 'svn:qemu'], { reject: false, timeout: scaledMs(60_000) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain("bad source spec 'svn:qemu'");
  });

  it('probe reports the baseline as not supported', async () => {
    const result = await execa('node', [cli, 'probe', '--qemu', baseline.manifest.binary, '--json'], { reject: false, timeout: scaledMs(60_000) });
    expect(result.exitCode).toBe(4);
    expect(JSON.parse(result.stdout)).toMatchObject({ supported: false, verdict: 'not-supported' });
  });
});

/** A source tree whose configure writes a build.ninja that makes a fake qemu-system-x86_64 after `command` runs. */
async function toyTree(name: string, command: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir, { recursive: true });
  const ninja = [
    'rule mk',
    `  command = ${command} && printf '#!/bin/sh\\necho "QEMU emulator version 0.0.1-toy"\\n' > $out && chmod +x $out`,
    'build qemu-system-x86_64: mk',
    '',
  ].join('\n');
  await writeFile(join(dir, 'configure'), `#!/bin/sh\ncat > build.ninja <<'EOF'\n${ninja}EOF\n`);
  await chmod(join(dir, 'configure'), 0o755);
  return dir;
}

describe('builder machinery (toy source tree)', () => {
  it('two builders at once on one key: one builds (the other waits on its lock), both get its manifest', async () => {
    const tree = await toyTree('toy-race', 'sleep 2');
    const cacheEnv = { XDG_CACHE_HOME: join(scratch, 'cache-race') };
    const steps: string[] = [];
    const options = { source: `dir:${tree}`, patches: null, cacheEnv, ccacheDir: null, reporter: { ...silentReporter, step: (m: string) => steps.push(m) } };
    const [a, b] = await Promise.all([ensureQemu(options), ensureQemu(options)]);
    expect([a.cacheHit, b.cacheHit]).toEqual([false, false]); // neither found it published when it asked
    expect(steps.filter((m) => m.startsWith('building QEMU'))).toHaveLength(1);
    expect(a.manifest).toEqual(b.manifest);
    expect(a.manifest.qemuVersion).toBe('0.0.1-toy');
    expect(a.manifest.source).toMatchObject({ kind: 'dir', version: 'unversioned' });
    // The entry and its lock file (flock files stay: removing one would let a second holder in).
    const entries = await readdir(cacheArea('qemu', cacheEnv));
    expect(entries.sort()).toEqual([`.flock-${a.manifest.cacheKey}`, a.manifest.cacheKey].sort());
    expect((await execa(a.manifest.binary, ['--version'])).stdout).toContain('0.0.1-toy');
    expect((await ensureQemu(options)).cacheHit).toBe(true);
  });

  it('on abort kills ninja and its children and removes the staging directory', async () => {
    const pidFile = join(scratch, 'toy-sleep.pid');
    const tree = await toyTree('toy-abort', `echo $$$$ > ${pidFile} && exec sleep 300`);
    const cacheEnv = { XDG_CACHE_HOME: join(scratch, 'cache-abort') };
    const controller = new AbortController();
    const build = ensureQemu({ source: `dir:${tree}`, patches: null, cacheEnv, ccacheDir: null, reporter: silentReporter, signal: controller.signal });
    const pid = await waitForPid(pidFile, 30_000);
    const stagings = (await readdir(cacheArea('qemu', cacheEnv))).filter((n) => n.startsWith('.staging-'));
    expect(stagings).toHaveLength(1);

    const abortedAt = Date.now();
    controller.abort('test abort');
    await expect(build).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - abortedAt).toBeLessThan(scaledMs(10_000));
    expect(isAlive(pid)).toBe(false);
    expect((await readdir(cacheArea('qemu', cacheEnv))).filter((n) => !n.startsWith('.flock-'))).toEqual([]);
  });
});

describe('the CLI interrupted', () => {
  it('on SIGINT stops the build, removes staging and exits 130', async () => {
    const pidFile = join(scratch, 'cli-sleep.pid');
    const tree = await toyTree('toy-sigint', `echo $$$$ > ${pidFile} && exec sleep 300`);
    const cacheHome = join(scratch, 'cache-sigint');
    const cli = execa('node', [join(REPO_ROOT, 'bin', 'memmap-harness.js'), 'build', '--source', `dir:${tree}`, '--no-patches'], {
      env: { XDG_CACHE_HOME: cacheHome },
      reject: false,
      timeout: scaledMs(60_000),
    });
    const pid = await waitForPid(pidFile, 30_000);
    cli.kill('SIGINT');
    const result = await cli;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toMatch(/interrupted \(SIGINT\)/);
    expect(isAlive(pid)).toBe(false);
    expect((await readdir(join(cacheHome, 'memmap-harness', 'qemu'))).filter((n) => !n.startsWith('.flock-'))).toEqual([]);
  });
});

async function waitForPid(file: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + scaledMs(timeoutMs);
  while (Date.now() < deadline) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\s*$/.test(text)) return Number(text);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${file} did not appear within ${timeoutMs} ms`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
