import { firmwareArgs } from '../image/firmware.ts';
import type { GuestImage } from '../image/image.ts';

export type { GuestImage } from '../image/image.ts';

/**
 * QEMU arguments that boot the probe guest: firmware, direct kernel boot, no
 * devices but the serial port the VM runner adds. `panic=-1` turns a failed
 * init into a reboot, which `-no-reboot` turns into an exit; 115200 baud keeps
 * the console fast under TCG. `kernelArgs` are appended (one QEMU argument, no shell).
 */
export async function guestArgs(image: GuestImage, runDir: string, firmwareDirs: readonly string[], kernelArgs: readonly string[] = []): Promise<string[]> {
  return [
    '-nodefaults', '-display', 'none', '-no-reboot',
    ...firmwareDirs.flatMap((dir) => ['-L', dir]),
    ...(await firmwareArgs(image.firmware, runDir)),
    '-kernel', image.kernel.vmlinuz,
    '-initrd', image.initrd.path,
    '-append', ['console=ttyS0,115200', 'panic=-1', ...kernelArgs].join(' '),
  ];
}
