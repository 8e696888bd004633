import { probeMemmapType, type ProbeResult } from '../qemu-build/probe.ts';

const probes = new Map<string, Promise<ProbeResult>>();

/** Whether a QEMU binary understands memmap-type, asked once per binary per process. */
export function memmapSupport(binary: string, firmwareDirs: readonly string[]): Promise<ProbeResult> {
  let probe = probes.get(binary);
  if (!probe) {
    probe = probeMemmapType(binary, { firmwareDirs: [...firmwareDirs] });
    probes.set(binary, probe);
  }
  return probe;
}
