import { access, constants } from 'node:fs/promises';
import { HarnessError } from '../util/errors.ts';
import { lastMeaningfulLine, run } from '../util/subprocess.ts';
import { FIRMWARE_DIRS } from '../util/paths.ts';
import { parseQemuVersion } from './steps.ts';

/**
 * Does a qemu-system-x86_64 understand `-numa node,memmap-type=`?
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

export interface ProbeOptions {
  firmwareDirs?: readonly string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const QMP_QUIT = '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n';

export class ProbeInputError extends HarnessError {}

export async function probeMemmapType(qemu: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const executable = await access(qemu, constants.X_OK).then(() => true, () => false);
  if (!executable) throw new ProbeInputError(`${qemu} is not an executable file`, 'give the path of a qemu-system-x86_64 binary, e.g. the one `memmap-harness build` prints');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const qemuVersion = await versionOrUndefined(qemu, timeoutMs, options.signal);
  const args = dryStartArgs(options.firmwareDirs ?? FIRMWARE_DIRS);
  const result = await run(qemu, args, { input: QMP_QUIT, timeoutMs, signal: options.signal }).catch((error: unknown) => {
    if (error instanceof HarnessError && !options.signal?.aborted) return error;
    throw error;
  });
  if (result instanceof HarnessError) return verdict(qemu, 'undetermined', `dry start did not finish: ${result.message}`, qemuVersion);
  return verdict(qemu, ...classifyDryStart(result.exitCode, result.stdout, result.stderr), qemuVersion);
}

/** The dry start: q35 paused with one memdev node typed `normal`, QMP on stdio. */
export function dryStartArgs(firmwareDirs: readonly string[]): string[] {
  return [
    ...firmwareDirs.flatMap((d) => ['-L', d]),
    '-accel', 'tcg',
    '-M', 'q35',
    '-m', '128M',
    '-object', 'memory-backend-ram,id=m0,size=128M',
    '-numa', 'node,nodeid=0,memdev=m0,memmap-type=normal',
    '-S', '-nodefaults', '-display', 'none', '-serial', 'none', '-monitor', 'none',
    '-qmp', 'stdio',
  ];
}

/** Verdict from the dry start's exit and output. */
export function classifyDryStart(exitCode: number, stdout: string, stderr: string): [ProbeVerdict, string] {
  const rejected = /Invalid parameter 'memmap-type'/.exec(stderr);
  if (rejected) return ['not-supported', `patch not applied: QEMU rejects -numa memmap-type (${lastMeaningfulLine(stderr) ?? rejected[0]})`];
  const quitAnswered = /"event":\s*"SHUTDOWN"/.test(stdout) || (stdout.match(/"return"/g)?.length ?? 0) >= 2;
  if (exitCode === 0 && quitAnswered) return ['supported', 'QEMU accepted -numa node,memmap-type=normal on q35 and quit over QMP'];
  const why = lastMeaningfulLine(stderr) ?? `exit code ${exitCode}, no error output`;
  return ['undetermined', `QEMU did not start for another reason: ${why}`];
}

function verdict(qemu: string, kind: ProbeVerdict, detail: string, qemuVersion: string | undefined): ProbeResult {
  return { qemu, supported: kind === 'supported', verdict: kind, detail, qemuVersion };
}

async function versionOrUndefined(qemu: string, timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const result = await run(qemu, ['--version'], { timeoutMs, signal }).catch(() => undefined);
  return result?.exitCode === 0 ? parseQemuVersion(result.stdout) : undefined;
}
