import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCase } from '../../harness/case/load.ts';
import { bootGuest, GUEST_DONE } from '../../harness/image/boot.ts';
import { listCpioGz } from '../../harness/image/cpio.ts';
import { ensureFirmware } from '../../harness/image/firmware.ts';
import { ensureInitramfs } from '../../harness/image/initramfs.ts';
import { checkKernelConfig, parseKernelConfig } from '../../harness/image/kernel-config.ts';
import { ensureKernel } from '../../harness/image/kernel.ts';
import { ensureMinimalKernel, FRAGMENT_DIR, type MinimalKernelManifest } from '../../harness/image/minimal-kernel.ts';
import { GUEST_MODULES } from '../../harness/image/modules.ts';
import { formatVerdict } from '../../harness/report/console.ts';
import { runCase, type QemuUnderTest } from '../../harness/run/run-case.ts';
import { testbed } from './testbed.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Our own tinyconfig-based kernel: a cold cache builds it (about 9 min of both
// cores, less with a warm ccache), after that every call is a cache hit.
const BUILD_TIMEOUT_MS = 45 * 60 * 1000;
let kernel: MinimalKernelManifest;
let logDir: string;
let v5: QemuUnderTest;

beforeAll(async () => {
  kernel = (await ensureMinimalKernel('minimal-6.1')).manifest;
  logDir = await mkdtemp(join(tmpdir(), 'memmap-harness-minimal-'));
  const bed = testbed();
  v5 = { binary: bed.qemuV5, label: 'v5', firmwareDirs: bed.firmwareDirs };
}, scaledMs(BUILD_TIMEOUT_MS));

afterAll(async () => {
  if (logDir) await rm(logDir, { recursive: true, force: true });
});

describe('minimal-6.1 kernel', () => {
  it('is a complete cache entry whose .config has every option of the fragment', async () => {
    await stat(join(kernel.dir, 'entry.json'));
    expect((await stat(kernel.vmlinuz)).size).toBe(kernel.minimal.bzImageBytes);
    const config = parseKernelConfig(await readFile(kernel.config, 'utf8'));
    const fragment = parseKernelConfig(await readFile(join(FRAGMENT_DIR, 'minimal-6.1.config'), 'utf8'));
    expect(checkKernelConfig(config, fragment)).toEqual([]);
    expect(kernel.release).toMatch(/^6\.1\.\d+/);
    expect(kernel.modules).toEqual([]);
    expect(kernel.builtin).toEqual([...GUEST_MODULES]);
    expect(kernel.absent).toEqual([]);
  });

  it('is a fast cache hit the second time, also through ensureKernel', async () => {
    const t0 = performance.now();
    const again = await ensureMinimalKernel('minimal-6.1');
    expect(performance.now() - t0).toBeLessThan(scaledMs(5_000));
    expect(again.cacheHit).toBe(true);
    expect(again.manifest).toEqual(kernel);
    // ensureKernel also pins the source package by its .deb's sha256 (entries made before pinning lack it).
    const viaEnsureKernel = await ensureKernel('minimal-6.1');
    expect({ ...viaEnsureKernel, packages: [] }).toEqual({ ...kernel, packages: [] });
    expect(viaEnsureKernel.packages).toEqual(kernel.packages.map((p) => ({ ...p, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })));
  });

  it('gets a guest initramfs without modules (empty load-order)', async () => {
    const initrd = await ensureInitramfs('minimal-6.1');
    expect(initrd.kernelId).toBe('minimal-6.1');
    expect(initrd.modules).toEqual([]);
    const members = await listCpioGz(initrd.path);
    expect(members).toEqual(expect.arrayContaining(['init', 'bin/busybox', 'lib/modules/load-order']));
    expect(members.some((m) => m.endsWith('.ko'))).toBe(false);
  });

  it('boots the probe to its end marker on SeaBIOS, with timestamps and SRAT', async () => {
    const [initrd, firmware] = await Promise.all([ensureInitramfs('minimal-6.1'), ensureFirmware('seabios-bookworm')]);
    const result = await withDir(
      ({ path: runDir }) => bootGuest({ qemu: v5.binary, kernel, initrd, firmware, runDir, timeoutMs: 120_000 }),
      { unsafeCleanup: true },
    );
    const serial = result.serial.toString('latin1');
    expect(result.timedOut, result.stderr).toBe(false);
    expect(serial).toContain(GUEST_DONE);
    expect(serial).toMatch(/^\[ *\d+\.\d+\] ACPI: SRAT: Node 1 PXM 1 \[mem 0x280000000-0x47fffffff\]/m);
    expect(serial).not.toMatch(/insmod/);
  });

  it('passes seed-spm on the patched QEMU and OVMF: Soft Reserved, dax0.0 on node 1', async () => {
    const spec = await loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json'));
    const verdict = await runCase(spec, { qemu: v5, logDir, kernel: 'minimal-6.1' });
    expect(formatVerdict(verdict).join('\n')).toMatch(/^PASS/);
    expect(verdict.kernel).toBe('minimal-6.1');
    const serial = await readFile(verdict.serialLog ?? '', 'latin1');
    expect(serial).toContain('Soft Reserved');
    expect(serial).toMatch(/^dax0\.0 size=8589934592 target_node=1/m);
    expect(serial).toContain(GUEST_DONE);
    // Its time by phase: each measured, the guest's the largest, together no more than the whole.
    const phases = verdict.phases;
    expect(phases).toBeDefined();
    const { startMs, qmpMs, guestMs, stopMs } = phases ?? { startMs: -1, qmpMs: -1, guestMs: -1, stopMs: -1 };
    for (const ms of [startMs, qmpMs, guestMs, stopMs]) expect(ms).toBeGreaterThan(0);
    expect(guestMs).toBeGreaterThan(Math.max(startMs, qmpMs, stopMs));
    expect(startMs + qmpMs + guestMs + stopMs).toBeLessThanOrEqual(verdict.durationMs);
  });
});
