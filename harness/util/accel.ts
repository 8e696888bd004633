import { closeSync, openSync } from 'node:fs';
import { HarnessError, UsageError } from './errors.ts';

/** The accelerators a guest can run under. */
export const ACCELERATORS = ['tcg', 'kvm'] as const;
export type Accelerator = (typeof ACCELERATORS)[number];

/** What the user may ask for: an accelerator, or `auto` (kvm when /dev/kvm is usable, else tcg). */
export type AcceleratorChoice = Accelerator | 'auto';

/** The accelerator used when neither --accel nor MEMMAP_HARNESS_ACCEL says otherwise. */
export const DEFAULT_ACCELERATOR: Accelerator = 'tcg';

/**
 * `-accel`'s value for an accelerator. TCG runs every vCPU on one host thread
 * (thread=single): guests see the same machine, and on a two-core host two
 * 8-vCPU guests at once boot in 8.4–11.2 s each rather than 13.8–14.3 s with a
 * thread per vCPU (one guest alone: 4.8–5.9 s vs 5.7–6.5 s; measured with the
 * seed layout, minimal kernel, qboot).
 */
export function accelOption(accel: Accelerator): string {
  return accel === 'tcg' ? 'tcg,thread=single' : accel;
}

/** Why /dev/kvm cannot be used, or undefined when it can (the check is injectable so tests need no device). */
export type KvmCheck = () => string | undefined;

/** An accelerator decided for a run, and why (printed). */
export interface AcceleratorDecision {
  accel: Accelerator;
  reason: string;
}

/** The device QEMU opens for -accel kvm. */
export const KVM_DEVICE = '/dev/kvm';

/** Whether /dev/kvm opens read-write, as QEMU needs it: undefined when it does, else why not. */
export function checkKvmDevice(device: string = KVM_DEVICE): string | undefined {
  try {
    // Permission bits can lie (ACLs, a container without the device cgroup rule): open it as QEMU does.
    closeSync(openSync(device, 'r+'));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${device} does not exist` : `${device} is not usable read-write (${code ?? String(error)})`;
  }
}

/** Parses an --accel / MEMMAP_HARNESS_ACCEL value; `from` names where it came from for the error line. */
export function parseAcceleratorChoice(text: string, from: string): AcceleratorChoice {
  if (text === 'auto' || (ACCELERATORS as readonly string[]).includes(text)) return text as AcceleratorChoice;
  throw new UsageError(`${from} must be tcg, kvm or auto, not '${text}'`);
}

/** The choice a command line makes: --accel, else MEMMAP_HARNESS_ACCEL, else tcg. */
export function acceleratorChoiceOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): AcceleratorChoice {
  if (flag !== undefined) return parseAcceleratorChoice(flag, '--accel');
  const fromEnv = env.MEMMAP_HARNESS_ACCEL;
  return fromEnv ? parseAcceleratorChoice(fromEnv, 'MEMMAP_HARNESS_ACCEL') : DEFAULT_ACCELERATOR;
}

/**
 * Decides the accelerator before any QEMU starts: tcg as asked; kvm only with
 * a usable /dev/kvm (else one infrastructure error line); auto falls back to
 * tcg and says why.
 */
export function decideAccelerator(choice: AcceleratorChoice, kvmProblem: KvmCheck = checkKvmDevice): AcceleratorDecision {
  if (choice === 'tcg') return { accel: 'tcg', reason: 'asked for' };
  const problem = kvmProblem();
  if (choice === 'kvm') {
    if (problem !== undefined) throw new HarnessError(`-accel kvm asked for, but ${problem}`, 'run on a host with KVM (containers need --device /dev/kvm), or use --accel tcg|auto');
    return { accel: 'kvm', reason: 'asked for' };
  }
  return problem === undefined ? { accel: 'kvm', reason: `auto: ${KVM_DEVICE} is usable` } : { accel: 'tcg', reason: `auto: ${problem}` };
}
