import type { FirmwareManifest } from '../image/firmware.ts';
import { firmwareArgs } from '../image/firmware.ts';
import type { InitramfsManifest } from '../image/initramfs.ts';
import type { KernelManifest } from '../image/kernel.ts';

/** The guest image a case boots: kernel, its probe initramfs, and firmware. */
export interface GuestImage {
  kernel: KernelManifest;
  initrd: InitramfsManifest;
  firmware: FirmwareManifest;
}

/**
 * QEMU arguments that boot the probe guest: firmware, direct kernel boot, no
 * devices but the serial port the VM runner adds. `panic=-1` turns a failed
 * init into a reboot, which `-no-reboot` turns into an exit; 115200 baud keeps
 * the console fast under TCG.
 */
export async function guestArgs(image: GuestImage, runDir: string, firmwareDirs: readonly string[]): Promise<string[]> {
  return [
    '-nodefaults', '-display', 'none', '-no-reboot',
    ...firmwareDirs.flatMap((dir) => ['-L', dir]),
    ...(await firmwareArgs(image.firmware, runDir)),
    '-kernel', image.kernel.vmlinuz,
    '-initrd', image.initrd.path,
    '-append', 'console=ttyS0,115200 panic=-1',
  ];
}
