import { access, constants } from 'node:fs/promises';
import { FIRMWARE_DIRS } from '../util/paths.ts';
import { loadProfiles, profileForQemuLabel } from '../traits/profiles.ts';
import { run } from '../util/subprocess.ts';
import { HarnessError } from '../util/errors.ts';
import { acceptsMemmapType, classifyInterfaces, listsSpMem, type InterfaceReport } from './classify.ts';
import { probeArgs, probeInput, type ProbeName, type ProbeRun } from './probe-runs.ts';

/**
 * Runs the harmless probes on a binary and classifies it (classify.ts). Every
 * probe is one short QEMU process with a timeout: `--version`, `-device help`,
 * `-device sp-mem,help` (only when listed), `query-qmp-schema` on `-M none`, and
 * at most two paused q35 starts that quit over QMP at once. Nothing boots.
 */
export interface InterfaceProbeOptions {
  /** -L directories for the q35 starts; default the host's SeaBIOS and QEMU data. */
  firmwareDirs?: readonly string[];
  /** Per probe; default 30 s (TCG on a busy two-core host). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class ProbeInputError extends HarnessError {}

/** Probes and classifies one binary. Throws only for a path that is not an executable (or when aborted). */
export async function probeInterfaces(qemu: string, options: InterfaceProbeOptions = {}): Promise<InterfaceReport> {
  const runs = await runProbes(qemu, options);
  return classifyInterfaces(qemu, runs, loadProfiles());
}

/** The probe runs for a binary: the raw material of a classification (also what the fixtures hold). */
export async function runProbes(qemu: string, options: InterfaceProbeOptions = {}): Promise<ProbeRun[]> {
  const executable = await access(qemu, constants.X_OK).then(() => true, () => false);
  if (!executable) throw new ProbeInputError(`${qemu} is not an executable file`, 'give the path of a qemu-system-x86_64 binary, e.g. the one `memmap-harness build` prints');
  const once = (probe: ProbeName) => runProbe(qemu, probe, options);
  const runs: ProbeRun[] = [await once('version'), await once('device-help')];
  if (listsSpMem(runs[1])) runs.push(await once('sp-mem-properties'));
  runs.push(await once('qmp-schema'));
  const withMemdev = await once('memmap-type-with-memdev');
  runs.push(withMemdev);
  if (acceptsMemmapType(withMemdev)) runs.push(await once('memmap-type-without-memdev'));
  return runs;
}

/** A revision profile chosen for a QEMU under test, and why. */
export interface ProfileDecision {
  /** harness/traits/traits.json id; undefined when neither the build nor the probe could tell. */
  id: string | undefined;
  reason: string;
}

/**
 * The revision profile of a QEMU the harness did not build from a known series
 * (a `--qemu` binary, a Debian binary package): from its probed behaviour.
 */
export async function profileFromProbe(qemu: { binary: string; label: string; firmwareDirs: readonly string[] }): Promise<ProfileDecision> {
  const built = profileForQemuLabel(qemu.label);
  if (built) return { id: built.id, reason: `built with the ${built.label} series` };
  const report = await cachedInterfaces(qemu.binary, qemu.firmwareDirs);
  const verdict = report.profile ? `profile ${report.profile}` : 'no profile';
  return { id: report.profile, reason: `probed: ${report.summary} → ${verdict}: ${report.profileReason}` };
}

const reports = new Map<string, Promise<InterfaceReport>>();

/** probeInterfaces once per binary per process (the run's preamble and every case share it). */
export function cachedInterfaces(binary: string, firmwareDirs: readonly string[]): Promise<InterfaceReport> {
  let report = reports.get(binary);
  if (!report) {
    report = probeInterfaces(binary, { firmwareDirs: [...firmwareDirs] });
    reports.set(binary, report);
    // A failed probe (e.g. interrupted) is not remembered: the next caller tries again.
    report.catch(() => reports.delete(binary));
  }
  return report;
}

async function runProbe(qemu: string, probe: ProbeName, options: InterfaceProbeOptions): Promise<ProbeRun> {
  const args = probeArgs(probe, options.firmwareDirs ?? FIRMWARE_DIRS);
  const input = probeInput(probe);
  try {
    const result = await run(qemu, args, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, signal: options.signal, ...(input === undefined ? {} : { input }) });
    return { probe, args, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  } catch (error) {
    // A timeout or a binary that cannot start is an observation; a caller's abort is not.
    if (!(error instanceof HarnessError) || options.signal?.aborted) throw error;
    return { probe, args, exitCode: undefined, stdout: '', stderr: '', failure: error.message };
  }
}
