import { memmapVerdict, type ProbeResult } from '../qemu-build/probe.ts';
import { cachedInterfaces } from '../probe/interface.ts';

/** Whether a QEMU binary understands memmap-type, from its interface probe (run once per binary per process). */
export async function memmapSupport(binary: string, firmwareDirs: readonly string[]): Promise<ProbeResult> {
  return memmapVerdict(await cachedInterfaces(binary, firmwareDirs));
}
