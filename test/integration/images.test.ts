import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withDir } from 'tmp-promise';
import { describe, expect, it } from 'vitest';
import { bootGuest, GUEST_DONE } from '../../harness/image/boot.ts';
import { listCpioGz } from '../../harness/image/cpio.ts';
import { ensureFirmware, firmwareArgs, FIRMWARE_IDS } from '../../harness/image/firmware.ts';
import { ensureImage } from '../../harness/image/image.ts';
import { ensureInitramfs } from '../../harness/image/initramfs.ts';
import { ensureKernel, KERNEL_IDS } from '../../harness/image/kernel.ts';
import { HarnessError } from '../../harness/util/errors.ts';
import { testbed } from './testbed.ts';

// Downloads and unpacks Debian kernels and firmware on a cold cache (minutes);
// after that every ensure* is a cache hit.
// The baseline build of the integration testbed (a QEMU of the user's choice with MEMMAP_HARNESS_QEMU): never skipped.
const QEMU = process.env.MEMMAP_HARNESS_QEMU ?? testbed().qemuBaseline;

async function entryMtime(dir: string): Promise<number> {
  return (await stat(join(dir, 'entry.json'))).mtimeMs;
}

describe.each(KERNEL_IDS)('kernel %s', (id) => {
  it('unpacks vmlinuz and the dax modules, then hits the cache', async () => {
    const first = await ensureKernel(id);
    await access(first.vmlinuz);
    for (const m of first.modules) await access(m.path);
    // Every probe module is either a file or built in; none is simply missing.
    const names = [...first.modules.map((m) => m.name), ...first.builtin];
    expect(names).toEqual(expect.arrayContaining(['dax', 'device_dax', 'dax_hmem', 'kmem']));
    expect(first.absent).toEqual([]);
    const mtime = await entryMtime(first.dir);
    const second = await ensureKernel(id);
    expect(second).toEqual(first);
    expect(await entryMtime(second.dir)).toBe(mtime);
  });

  it('builds a guest initramfs with init, busybox and the modules, then hits the cache', async () => {
    const first = await ensureInitramfs(id);
    const members = await listCpioGz(first.path);
    expect(members).toEqual(expect.arrayContaining(['init', 'bin/busybox', 'lib/modules/load-order', ...first.modules.map((m) => `lib/modules/${m}.ko`)]));
    const mtime = await entryMtime(first.dir);
    const second = await ensureInitramfs(id);
    expect(second).toEqual(first);
    expect(await entryMtime(second.dir)).toBe(mtime);
  });
});

describe.each(FIRMWARE_IDS)('firmware %s', (id) => {
  it('has its files and gives QEMU arguments with a per-run vars copy', async () => {
    const firmware = await ensureFirmware(id);
    expect(await ensureFirmware(id)).toEqual(firmware);
    await withDir(
      async ({ path: runDir }) => {
        const args = await firmwareArgs(firmware, runDir);
        expect(args.slice(0, 2)).toEqual(['-L', '/usr/share/qemu']);
        if (firmware.kind !== 'ovmf') {
          await access(firmware.bios);
          expect(args).toContain(firmware.bios);
        } else {
          expect(args).toContain(`if=pflash,format=raw,unit=0,readonly=on,file=${firmware.code}`);
          expect(args.some((a) => a.startsWith(`if=pflash,format=raw,unit=1,file=${runDir}/`))).toBe(true);
          expect(await readdir(runDir)).toHaveLength(1);
        }
      },
      { unsafeCleanup: true },
    );
  });
});

async function oneLine(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(HarnessError);
  return (error as HarnessError).oneLine();
}

describe('bad input', () => {
  it('gives one HarnessError line that names the valid ids', async () => {
    expect(await oneLine(ensureKernel('bookworm-5.10'))).toMatch(/^unknown kernel 'bookworm-5.10'; use one of bookworm-6.1, /);
    expect(await oneLine(ensureFirmware('uboot'))).toMatch(/use one of (\S+, )*seabios-bookworm, /);
    expect(await oneLine(ensureImage('bookworm-6.1'))).toMatch(/<kernel>@<firmware>/);
  });
});

describe(`real boot (${QEMU})`, () => {
  it('boots bookworm-6.1 on SeaBIOS to the probe-done marker', async () => {
    const image = await ensureImage('bookworm-6.1@seabios-bookworm');
    const result = await withDir(
      ({ path: runDir }) => bootGuest({ qemu: QEMU, kernel: image.kernel, initrd: image.initrd, firmware: image.firmware, runDir, timeoutMs: 180_000 }),
      { unsafeCleanup: true },
    );
    const serial = result.serial.toString('latin1');
    expect(result.timedOut, result.stderr).toBe(false);
    expect(serial).toContain('==== memmap-harness: init start ====');
    expect(serial).toContain(GUEST_DONE);
    expect(serial).toMatch(/ACPI: SRAT: Node 1 PXM 1 \[mem 0x280000000-0x47fffffff\]/);
    // init's sections appear in the order the parser relies on.
    const order = ['iomem', 'firmware-memmap', 'node-meminfo', 'dax', 'cmdline'].map((s) => serial.indexOf(`==== memmap-harness: begin ${s} ====`));
    expect(order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] ?? 0)))).toBe(true);
  });
});
