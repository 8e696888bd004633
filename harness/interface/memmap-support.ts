import type { InterfaceReport } from './classify.ts';
import { cachedInterfaces, probeInterfaces, ProbeInputError, type InterfaceProbeOptions } from './detect.ts';

/**
 * Does a qemu-system-x86_64 understand `-numa node,memmap-type=`? The yes/no
 * view of the interface classifier (harness/interface/), for callers that only need that:
 * a case that sets memmap-type is `unsupported` on a QEMU without it.
 *
 * QMP's query-command-line-options cannot tell: QEMU 10.2.2 reports `numa` with
 * an empty parameter list (its options go through a QAPI visitor). So the probe
 * starts the binary the way the cases will (q35, a memdev-backed node with
 * memmap-type=normal, paused, no devices) and quits it over QMP at once. QEMU
 * rejects an unknown -numa parameter with "Invalid parameter 'memmap-type'".
 */
export type ProbeVerdict = 'supported' | 'not-supported' | 'undetermined';

export interface ProbeResult {
  qemu: string;
  supported: boolean;
  verdict: ProbeVerdict;
  detail: string;
  /** From `--version`, e.g. "10.2.2"; undefined when the binary would not say. */
  qemuVersion: string | undefined;
}

export type ProbeOptions = InterfaceProbeOptions;
export { ProbeInputError };

/** Probes the binary's interfaces and answers only "memmap-type or not". */
export async function probeMemmapType(qemu: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  return memmapVerdict(await probeInterfaces(qemu, options));
}

/** The memmap-type yes/no of a full interface report. */
export function memmapVerdict(report: InterfaceReport): ProbeResult {
  const dry = report.evidence.find((e) => e.probe === 'memmap-type-with-memdev')?.observed ?? 'no dry start';
  const base = { qemu: report.qemu, qemuVersion: report.qemuVersion };
  switch (report.interfaces.memmapType) {
    case 'absent':
      return { ...base, supported: false, verdict: 'not-supported', detail: `patch not applied: QEMU rejects -numa memmap-type (${dry})` };
    case 'undetermined':
      return { ...base, supported: false, verdict: 'undetermined', detail: `QEMU did not start for another reason: ${dry}` };
    default:
      return { ...base, supported: true, verdict: 'supported', detail: `QEMU accepted -numa node,memmap-type=normal on q35 and quit over QMP: ${report.summary}` };
  }
}

/** Whether a QEMU binary understands memmap-type, from its interface report (run once per binary per process). */
export async function memmapSupport(binary: string, firmwareDirs: readonly string[]): Promise<ProbeResult> {
  return memmapVerdict(await cachedInterfaces(binary, firmwareDirs));
}
