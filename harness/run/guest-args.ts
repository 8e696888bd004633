import { firmwareArgs } from '../image/firmware.ts';
import type { GuestImage } from '../image/image.ts';
import type { CaseSpec } from '../case/types.ts';

export type { GuestImage } from '../image/image.ts';

/**
 * QEMU arguments that boot the guest program guest: firmware, direct kernel boot, no
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

/**
 * The kernel parameters a case asks for: its own `kernelArgs` (validated by
 * the case loader) and, when it runs use steps, `memmap_harness.use=<steps>`,
 * which the guest program's init reads from /proc/cmdline (a dotted parameter: the
 * kernel ignores it).
 */
export function caseKernelArgs(spec: Pick<CaseSpec, 'kernelArgs' | 'use'>): string[] {
  return [...(spec.kernelArgs ?? []), ...(spec.use && spec.use.length > 0 ? [`memmap_harness.use=${spec.use.join(',')}`] : [])];
}
