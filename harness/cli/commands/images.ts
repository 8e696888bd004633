import { ensureFirmware, FIRMWARE_IDS, type FirmwareManifest } from '../../image/firmware.ts';
import { ensureInitramfs, type InitramfsManifest } from '../../image/initramfs.ts';
import { ensureKernel, KERNEL_IDS, type KernelManifest } from '../../image/kernel.ts';
import { defineCommand } from '../command.ts';
import { emitJson, type JsonTarget } from '../json-output.ts';
import { checkFirmwareId, checkKernelId, jsonField, parseCommandLine } from '../options.ts';

const usage = `usage: memmap-harness images [--kernel ID]... [--firmware ID]... [--json [FILE.json]]

Fetches (first time only) and prints the guest kernels, their guest initramfs
and the firmware, all by exact Debian version. Without --kernel or --firmware:
all of them.

  --kernel ID     ${KERNEL_IDS.join(', ')}
  --firmware ID   ${FIRMWARE_IDS.join(', ')}
  --json [FILE]   the manifests as JSON (stdout, or FILE)`;

interface KernelReport {
  kernel: KernelManifest;
  initramfs: InitramfsManifest;
}

export const imagesCommand = defineCommand({
  name: 'images',
  summary: 'fetch and cache guest kernels, guest initramfs and firmware; print their paths',
  usage,
  parse: parseOptions,
  async act({ kernels, firmwares, json }) {
    const kernelReports: KernelReport[] = [];
    for (const id of kernels) kernelReports.push({ kernel: await ensureKernel(id), initramfs: await ensureInitramfs(id) });
    const firmwareReports: FirmwareManifest[] = [];
    for (const id of firmwares) firmwareReports.push(await ensureFirmware(id));
    if (json) await emitJson(json, { kernels: kernelReports, firmware: firmwareReports });
    else console.log([...kernelReports.map(kernelText), ...firmwareReports.map(firmwareText)].join('\n'));
    return 0;
  },
});

function parseOptions(argv: string[]): { kernels: string[]; firmwares: string[]; json?: JsonTarget } {
  const { values, json } = parseCommandLine('images', argv, { kernel: { type: 'string', multiple: true }, firmware: { type: 'string', multiple: true } }, false);
  const kernels = values.kernel ?? [];
  const firmwares = values.firmware ?? [];
  for (const k of kernels) checkKernelId('', k);
  for (const f of firmwares) checkFirmwareId('', f);
  const all = kernels.length === 0 && firmwares.length === 0;
  return { kernels: all ? [...KERNEL_IDS] : kernels, firmwares: all ? [...FIRMWARE_IDS] : firmwares, ...jsonField(json) };
}

function kernelText({ kernel, initramfs }: KernelReport): string {
  const builtin = kernel.builtin.length > 0 ? ` (built in: ${kernel.builtin.join(' ')})` : '';
  return [
    `kernel ${kernel.id}: ${kernel.image.name} ${kernel.image.version}`,
    `  vmlinuz  ${kernel.vmlinuz}`,
    `  initrd   ${initramfs.path}`,
    `  modules  ${initramfs.modules.join(' ') || '-'}${builtin}`,
  ].join('\n');
}

function firmwareText(firmware: FirmwareManifest): string {
  const head = `firmware ${firmware.id}: ${firmware.package.name} ${firmware.package.version} (${firmware.origin})`;
  if (firmware.kind !== 'ovmf') return `${head}\n  bios     ${firmware.bios}`;
  return `${head}\n  code     ${firmware.code}\n  vars     ${firmware.vars}`;
}
