import { HarnessError } from '../util/errors.ts';
import { ensureFirmware, FIRMWARE_IDS, type FirmwareManifest } from './firmware.ts';
import { ensureInitramfs, type InitramfsManifest } from './initramfs.ts';
import { ensureKernel, KERNEL_IDS, type KernelManifest } from './kernel.ts';

/** Everything a guest program boot needs besides QEMU: the kernel, its guest initramfs and the firmware. */
export interface GuestImage {
  kernel: KernelManifest;
  initrd: InitramfsManifest;
  firmware: FirmwareManifest;
}

/** A guest image with its name (`<kernel>@<firmware>`). */
export interface ImageManifest extends GuestImage {
  name: string;
}

/** Image names are `<kernel>@<firmware>`, e.g. `bookworm-6.1@ovmf-sid`. */
export function imageName(kernel: string, firmware: string): string {
  return `${kernel}@${firmware}`;
}

export function parseImageName(name: string): { kernel: string; firmware: string } {
  const [kernel, firmware, ...rest] = name.split('@');
  if (!kernel || !firmware || rest.length > 0) {
    throw new HarnessError(`bad image name '${name}'`, `write <kernel>@<firmware> with a kernel of ${KERNEL_IDS.join(', ')} and firmware of ${FIRMWARE_IDS.join(', ')}`);
  }
  return { kernel, firmware };
}

/** Ensures all three parts of an image (each a cache hit after the first time). */
export async function ensureImage(name: string): Promise<ImageManifest> {
  const { kernel: kernelId, firmware: firmwareId } = parseImageName(name);
  const kernel = await ensureKernel(kernelId);
  const [initrd, firmware] = await Promise.all([ensureInitramfs(kernelId), ensureFirmware(firmwareId)]);
  return { name, kernel, initrd, firmware };
}
