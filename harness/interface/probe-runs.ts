/**
 * The harmless probes that tell which memory interface a qemu-system-x86_64
 * implements, as data: what each runs and what it saw. The runner
 * (interface.ts) fills these from a real binary; the classifier (classify.ts)
 * reads only these, so it can be tested on outputs captured from real binaries.
 */
import { DEFAULT_ACCELERATOR, type Accelerator } from '../util/accel.ts';

/** Each probe, in the order the runner runs them. */
export const PROBE_NAMES = [
  'version',
  'device-help',
  'sp-mem-properties',
  'qmp-schema',
  'memmap-type-with-memdev',
  'memmap-type-without-memdev',
] as const;
export type ProbeName = (typeof PROBE_NAMES)[number];

/** One probe as it ran: the arguments (after the binary) and what came back. */
export interface ProbeRun {
  probe: ProbeName;
  args: string[];
  /** undefined when the process did not finish (see `failure`). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** Why it did not finish: a timeout, or the binary could not be started. */
  failure?: string;
}

/** What the QMP transcripts of the dry starts and the schema probe send on stdin. */
export const QMP_QUIT = '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n';
export const QMP_SCHEMA = '{"execute":"qmp_capabilities"}\n{"execute":"query-qmp-schema"}\n{"execute":"quit"}\n';

const QUIET = ['-S', '-nodefaults', '-display', 'none', '-serial', 'none', '-monitor', 'none', '-qmp', 'stdio'];

/**
 * Arguments of each probe; the dry starts pass the firmware directories (q35 loads its BIOS at machine creation).
 * They stop at -S, before any guest code, so what they find does not depend on the accelerator: tcg by
 * default keeps the probe cache's answers valid for every run.
 */
export function probeArgs(probe: ProbeName, firmwareDirs: readonly string[], accel: Accelerator = DEFAULT_ACCELERATOR): string[] {
  const firmware = firmwareDirs.flatMap((d) => ['-L', d]);
  const q35 = ['-accel', accel, '-M', 'q35', '-m', '128M', '-object', 'memory-backend-ram,id=m0,size=128M'];
  switch (probe) {
    case 'version':
      return ['--version'];
    case 'device-help':
      return ['-device', 'help'];
    case 'sp-mem-properties':
      return ['-device', 'sp-mem,help'];
    case 'qmp-schema':
      // No board at all: the schema is the binary's, not a machine's.
      return ['-M', 'none', ...QUIET];
    case 'memmap-type-with-memdev':
      return [...firmware, ...q35, '-numa', 'node,nodeid=0,memdev=m0,memmap-type=normal', ...QUIET];
    case 'memmap-type-without-memdev':
      // Node 1 has no memory at all: valid for any QEMU, so only a memdev rule can refuse it.
      return [...firmware, ...q35, '-numa', 'node,nodeid=0,memdev=m0', '-numa', 'node,nodeid=1,memmap-type=spm', ...QUIET];
  }
}

/** stdin of each probe: the QMP commands for the ones that start QEMU. */
export function probeInput(probe: ProbeName): string | undefined {
  if (probe === 'qmp-schema') return QMP_SCHEMA;
  if (probe === 'memmap-type-with-memdev' || probe === 'memmap-type-without-memdev') return QMP_QUIT;
  return undefined;
}
