import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { firmwareArgs, type FirmwareManifest } from './firmware.ts';
import type { InitramfsManifest } from './initramfs.ts';
import type { KernelManifest } from './kernel.ts';
import { GUEST_DONE } from '../util/constants.ts';
import { accelOption, DEFAULT_ACCELERATOR, type Accelerator } from '../util/accel.ts';
import { scaledMs } from '../util/timeouts.ts';

/** The line init prints last; a boot that reached it ran the whole probe. */
export { GUEST_DONE };

/** The seed's "normal" layout: q35-sized 16 GiB split 8 + 8 over two nodes, node 1 on memfd with cpus 4-7. */
export const SEED_TWO_NODES: readonly string[] = [
  '-m', '16G', '-smp', '8',
  '-object', 'memory-backend-ram,id=m0,size=8G',
  '-object', 'memory-backend-memfd,id=m1,size=8G',
  '-numa', 'node,nodeid=0,cpus=0-3,memdev=m0',
  '-numa', 'node,nodeid=1,cpus=4-7,memdev=m1',
];

export interface GuestBootOptions {
  qemu: string;
  kernel: KernelManifest;
  initrd: InitramfsManifest;
  firmware: FirmwareManifest;
  /** Per-run scratch: the OVMF variable store copy and serial.log go here. */
  runDir: string;
  /** `-M` value; q35 by default. */
  machine?: string;
  /** Memory, CPU and NUMA arguments; SEED_TWO_NODES by default. */
  topology?: readonly string[];
  /** Extra kernel command line words after `console=ttyS0 panic=-1`. */
  append?: readonly string[];
  timeoutMs?: number;
  /** The accelerator (default tcg). */
  accel?: Accelerator;
}

export interface GuestBootResult {
  args: string[];
  /** Everything the guest wrote to the serial port, byte for byte (ANSI escapes included). */
  serial: Buffer;
  stderr: string;
  exitCode: number | undefined;
  timedOut: boolean;
  /** True when the serial output holds GUEST_DONE. */
  guestDone: boolean;
  durationMs: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** QEMU's arguments for one guest boot: direct kernel boot, serial to a file in runDir, no reboot. */
export async function guestBootArgs(options: GuestBootOptions): Promise<string[]> {
  // panic=-1 turns a failed init into a reboot, which -no-reboot turns into an exit.
  const append = ['console=ttyS0', 'panic=-1', ...(options.append ?? [])].join(' ');
  return [
    '-nodefaults', '-display', 'none', '-accel', accelOption(options.accel ?? DEFAULT_ACCELERATOR), '-no-reboot',
    '-M', options.machine ?? 'q35',
    ...(options.topology ?? SEED_TWO_NODES),
    ...(await firmwareArgs(options.firmware, options.runDir)),
    '-kernel', options.kernel.vmlinuz,
    '-initrd', options.initrd.path,
    '-append', append,
    '-chardev', `file,id=serial0,path=${serialPath(options.runDir)}`,
    '-serial', 'chardev:serial0',
  ];
}

/** Where QEMU itself writes the guest's serial port in a run directory. */
export function serialPath(runDir: string): string {
  return join(runDir, 'serial.log');
}

/**
 * Boots the guest program once and returns its raw serial output; QEMU is killed on
 * timeout and when this process exits. QEMU writes the serial port to a file
 * of its own (`-chardev file`), never to a pipe: QEMU sends the UART one byte
 * at a time, and when a pipe's reader is slow (2 busy cores) the write fails
 * with EAGAIN and QEMU drops the byte after a few retries; that damaged
 * BIOS-e820 lines in early captures, even with execa writing stdout to a file
 * (it still reads through a pipe). A regular file never refuses a write.
 */
export async function bootGuest(options: GuestBootOptions): Promise<GuestBootResult> {
  const args = await guestBootArgs(options);
  const serialFile = serialPath(options.runDir);
  const started = performance.now();
  const result = await execa(options.qemu, args, {
    stdin: 'ignore',
    stdout: 'ignore',
    reject: false,
    timeout: scaledMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    killSignal: 'SIGKILL',
    cleanup: true,
  });
  const durationMs = Math.round(performance.now() - started);
  const serial = await readFile(serialFile);
  return {
    args,
    serial,
    stderr: result.stderr,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    guestDone: serial.includes(GUEST_DONE),
    durationMs,
  };
}
