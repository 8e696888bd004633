import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { machineArgs, memoryOption } from '../case/qemu-args.ts';
import type { BackendKind, CaseSpec, MachineType } from '../case/types.ts';
import { checkExpectations, needsGuestProgram, type Finding } from '../check/check.ts';
import { launchOutcome, refusalFindings } from '../check/refusal.ts';
import { softReservedFindings } from '../check/soft-reserved.ts';
import { checkLayers, divergence } from '../check/layers.ts';
import { RAW_FILE_SUFFIX, type Layers } from '../parse/layers.ts';
import { checkUse } from '../check/use.ts';
import { checkNodeAccess } from '../check/hmat.ts';
import { expectationsFor } from '../model/expectations.ts';
import { usesMemmapType, usesSpMem } from '../model/typed-nodes.ts';
import { profileForQemuLabel } from '../traits/profiles.ts';
import { cachedInterfaces } from '../interface/detect.ts';
import type { QmpFacts } from '../check/observations.ts';
import { ensureFirmware } from '../image/firmware.ts';
import { ensureInitramfs } from '../image/initramfs.ts';
import { ensureKernel } from '../image/kernel.ts';
import { parseSerialLog, type SerialLog } from '../parse/log.ts';
import { cont } from '../qmp/queries.ts';
import { runStem } from '../report/cell.ts';
import { acceleratorOf, layerOf, statusOf, type CasePhases, type QemuIdentity, type RunProvenance, type Verdict } from '../core/vocabulary.ts';
import { launchVm } from '../vm/launch.ts';
import { VmStartError } from '../vm/errors.ts';
import type { QmpTransportKind } from '../vm/qmp-endpoint.ts';
import type { Vm } from '../vm/vm.ts';
import { GUEST_DONE } from '../util/constants.ts';
import { envFlag } from '../util/env-overrides.ts';
import { createPrivateDir } from '../vm/private-dir.ts';
import { disown } from '../vm/owned-dirs.ts';
import { HarnessError } from '../util/errors.ts';
import { DEFAULT_ACCELERATOR, type Accelerator } from '../util/accel.ts';
import { acceleratorFindings, UNVERIFIED_CHECK } from '../model/accelerators.ts';
import { registerVm } from '../vm/registry.ts';
import { caseKernelArgs, guestArgs, type GuestImage } from './guest-args.ts';
import { withFullDiskNote } from './results-dir.ts';
import { memmapSupport } from '../interface/memmap-support.ts';
import { collectQmpFacts } from './qmp-facts.ts';
import { observedFromBoot, observedFromLaunch } from './observed.ts';

/** The QEMU a case runs on. */
export interface QemuUnderTest {
  binary: string;
  /** How reports name it: `v5`, `baseline`, a path… */
  label: string;
  /** Directories passed with -L (the build carries no firmware of its own). */
  firmwareDirs: readonly string[];
  /**
   * The revision id when the binary was built from this project's own series
   * (patches/memmap-type/<id>): only then is a refusal's exact wording checked.
   */
  ownSeries?: string;
  /** From `--version`, when known (reports record it). */
  version?: string;
  /** The build cache key when the harness built or fetched the binary (reports record it). */
  buildKey?: string;
}

/** How to run one case. */
export interface CaseRunOptions {
  qemu: QemuUnderTest;
  /** Machine, firmware and kernel; default the case's own. */
  machine?: MachineType;
  firmware?: string;
  kernel?: string;
  /** Backend of every node after node 0 (the matrix's backend axis); default each node's own. */
  backend?: BackendKind;
  transport?: QmpTransportKind;
  /** Directory where the serial log is kept. */
  logDir: string;
  /** From `cont` to the guest program's end marker; default 180 s (TCG on two shared cores). */
  bootTimeoutMs?: number;
  /**
   * Stop the guest as soon as the firmware-table facts are in (the kernel's
   * lines and QEMU's raw tables: the guest program's `tables done` marker), for cases
   * that check nothing of the guest's own view (default true); false always
   * waits for the guest program's end marker (the benchmark compares both).
   */
  earlyVerdict?: boolean;
  /**
   * QEMU's raw tables on an early verdict: `read` (default) waits for the guest program's
   * `tables done` marker, so every booted case checks its fw_cfg and acpi layers
   * (a tables-only case then also waits for the kernel to reach init: 1-7 s
   * under TCG on a loaded two-core host); `skip-when-early` stops at the kernel's `Memory:` line as before
   * and notes the layers as not read. Full-probe cases read them either way.
   */
  rawTables?: 'read' | 'skip-when-early';
  /** Revision (harness/traits/traits.json id) the QEMU implements; default from the QEMU's label. */
  profile?: string;
  /** Words added to the guest kernel's command line (fault tests: `rdinit=/missing` makes the guest panic). */
  kernelArgs?: readonly string[];
  /** The accelerator, already decided (harness/util/accel.ts); default tcg. */
  accel?: Accelerator;
}

const GUEST_DONE_LINE = new RegExp(`^${GUEST_DONE}$`);
// The probe prints this once QEMU's raw tables (fw_cfg etc/e820, ACPI) are out, first thing in init:
// every BIOS-e820 and SRAT line came long before it, so the firmware-table facts are all in.
const TABLES_DONE_LINE = /^==== memmap-harness: tables done ====$/;
// mem_init() prints this after every BIOS-e820 and SRAT line: the kernel's firmware-table facts are all in.
const FIRMWARE_TABLES_DONE = /^(\[[ \d.]+\] )?Memory: \d+K\/\d+K available/;
// Whatever the run waits for, a panic ends it at once (with panic=-1 QEMU exits right after it anyway).
const KERNEL_PANIC = /Kernel panic - not syncing:.*/;

/**
 * Runs one case on one configuration and returns its verdict; never throws
 * for a failing QEMU or guest. What the run must show comes from the
 * expectation engine (harness/model/expectations.ts), as for a matrix cell.
 * Throws HarnessError for a configuration the engine cannot read (unknown
 * firmware/kernel, a model case on a QEMU of unknown revision) and for
 * images that cannot be had.
 */
export async function runCase(caseSpec: CaseSpec, options: CaseRunOptions): Promise<Verdict> {
  let started = performance.now();
  const firmware = options.firmware ?? caseSpec.firmware;
  const kernel = options.kernel ?? caseSpec.kernel;
  const revision = options.profile ?? profileForQemuLabel(options.qemu.label)?.id;
  const expectation = expectationsFor(caseSpec, { machine: options.machine ?? caseSpec.machine, firmware, kernel, revision, backend: options.backend });
  const { spec, spec: { expect } } = expectation;
  const serialLog = join(options.logDir, `${runStem({ name: spec.name, qemu: options.qemu.label, machine: spec.machine, firmware, kernel })}.serial.log`);
  const provenance: RunProvenance = { qemu: qemuIdentity(options.qemu), transport: options.transport ?? 'unix', backend: options.backend, profile: revision, caseData: caseSpec };
  const base: Omit<Verdict, 'status' | 'findings' | 'durationMs'> = { name: spec.name, firmware, kernel, machine: spec.machine, qemu: options.qemu.label, firmwareVariant: expectation.variantReason, e820: [], srat: [], provenance };
  const verdict = (rest: Partial<Verdict> & Pick<Verdict, 'status' | 'findings'>): Verdict => ({ ...base, ...rest, durationMs: performance.now() - started });
  if (expectation.kind === 'underivable') return verdict({ status: 'error', reason: expectation.problem, findings: [] });

  if (usesMemmapType(spec)) {
    const support = await memmapSupport(options.qemu.binary, options.qemu.firmwareDirs);
    if (support.verdict === 'not-supported') return verdict({ status: 'unsupported', reason: support.detail, findings: [] });
    if (support.verdict === 'undetermined') return verdict({ status: 'error', reason: `cannot tell whether QEMU supports memmap-type: ${support.detail}`, findings: [] });
  }
  if (usesSpMem(spec)) {
    const unsupported = await spMemUnsupported(options.qemu);
    if (unsupported !== undefined) return verdict(unsupported);
  }

  const image: GuestImage = { kernel: await ensureKernel(kernel), initrd: await ensureInitramfs(kernel), firmware: await ensureFirmware(firmware) };
  base.inputs = { kernel: image.kernel.packages, firmware: image.firmware.package };
  // A case's time is the case's: building or fetching its images (minutes, once) is not part of it.
  started = performance.now();
  const run = await createPrivateDir(undefined, 'memmap-harness-run-');
  // The run directory (OVMF vars copy, file backends) goes on Ctrl-C too, like the VM's own.
  const unregister = registerVm({ killNow: () => {}, removeNow: () => run.removeNow() });
  const recordCommandLine = (argv: readonly string[]): void => {
    provenance.qemuArgv = [...argv];
    provenance.accelerator = acceleratorOf(argv);
  };
  let result: Verdict | undefined;
  try {
    result = await runInScratch();
    return result;
  } finally {
    if (result !== undefined && result.status !== 'pass' && envFlag('MEMMAP_HARNESS_KEEP_SCRATCH')) {
      // Asked to keep what a failed run leaves (OVMF vars, file backends) for a post-mortem.
      result.scratchDir = run.path;
      await disown(run.path);
      console.error(`memmap-harness: kept the scratch directory of ${spec.name} (${result.status}): ${run.path}`);
    } else {
      await run.remove();
    }
    unregister();
  }

  /** A completed run's verdict; an accelerator whose model is unverified (KVM) adds a failed finding: never a silent pass. */
  function verdictWithAccelerator(own: Finding[], observed: Partial<Verdict>): Verdict {
    const accel = options.accel ?? DEFAULT_ACCELERATOR;
    // Every finding carries its layer (qmp, fw_cfg, acpi, firmware, guest).
    const findings = [...own, ...acceleratorFindings(accel)].map((f) => ({ ...f, layer: f.layer ?? layerOf(f.aspect) }));
    // The reason names the accelerator only when nothing else failed: a real failure is its own reason.
    const onlyUnverified = findings.filter((f) => !f.ok).every((f) => f.check === UNVERIFIED_CHECK) && findings.some((f) => f.check === UNVERIFIED_CHECK);
    return verdict({ status: statusOf(findings), findings, ...observed, ...(onlyUnverified ? { reason: `expectation unverified under ${accel.toUpperCase()}` } : {}) });
  }

  async function runInScratch(): Promise<Verdict> {
    const args = [...machineArgs(spec, run.path, options.accel), ...(await guestArgs(image, run.path, options.qemu.firmwareDirs, [...caseKernelArgs(spec), ...(options.kernelArgs ?? [])]))];
    const added = memoryOption(spec).added;
    Object.assign(base, { qemuArgs: args, ...(added.length > 0 ? { addedByHarness: added } : {}) });
    if (expect.refusal !== undefined) {
      const launch = () => launchVm({ binary: options.qemu.binary, args, qmp: options.transport ?? 'unix', logPath: serialLog, timeoutMs: 60_000, onCommandLine: recordCommandLine });
      const outcome = await launchOutcome(launch);
      const findings = refusalFindings(expect.refusal, outcome, { ownSeries: options.qemu.ownSeries });
      return verdictWithAccelerator(findings, { serialLog, observed: observedFromLaunch(outcome) });
    }
    // access0 is read at the end of the guest program (after the use steps): a case with hmat waits for it.
    const waitForGuest = needsGuestProgram(expect) || expectation.nodeAccess !== undefined || options.earlyVerdict === false;
    const readTables = waitForGuest || options.rawTables !== 'skip-when-early';
    const outcome = await bootAndObserve(options, args, serialLog, waitForGuest ? 'guest' : readTables ? 'tables' : 'kernel', recordCommandLine);
    const log = parseSerialLog(await readFile(serialLog, 'latin1').catch(() => ''));
    const tablesMs = log.guest.tablesSeconds === undefined ? {} : { tablesMs: Math.round(log.guest.tablesSeconds * 1000) };
    const observed = { e820: log.e820, srat: log.srat, serialLog, ...('phases' in outcome ? { phases: { ...outcome.phases, ...tablesMs } } : {}) };
    if ('error' in outcome) return verdict({ status: 'error', reason: await withFullDiskNote(outcome.error, options.logDir), findings: [], ...observed });
    const stoppedEarly = readTables ? ('beforeInit' in outcome ? outcome.beforeInit : undefined) : "an early verdict at the kernel's Memory: line (rawTables: skip-when-early)";
    const layers = checkLayers(expectation.qemuTables, expectation.qemuTablesUnknown, log, stoppedEarly);
    await keepRawTables(log.layers, serialLog);
    const layered = {
      ...observed,
      ...(layers.fwCfgE820 ? { fwCfgE820: layers.fwCfgE820 } : {}),
      ...(layers.acpiSrat ? { acpiSrat: layers.acpiSrat } : {}),
      ...(layers.notes.length > 0 ? { layerNotes: layers.notes } : {}),
      ...(layers.passage.length > 0 ? { layerPassage: layers.passage } : {}),
      observed: observedFromBoot(log, outcome.qmp),
    };
    const useFindings = spec.use && expect.use ? checkUse(spec.use, expect.use, log.guest) : [];
    const accessFindings = expectation.nodeAccess ? checkNodeAccess(expectation.nodeAccess, log.guest) : [];
    const findings = [...checkExpectations(expect, { log, qmp: outcome.qmp }), ...softReservedFindings(expectation.softReservedChecks, log), ...useFindings, ...accessFindings, ...logIntegrity(log), ...layers.findings];
    // Zero checks is not a pass: a case must prove something on every run.
    if (findings.length === 0) return verdict({ status: 'error', reason: 'nothing was checked: the expectations left no check for this run', findings, ...layered });
    const done = verdictWithAccelerator(findings, layered);
    const first = divergence(done.findings, layers.passage, [UNVERIFIED_CHECK]);
    return first ? { ...done, divergence: first } : done;
  }
}

/** What a report records about the QEMU under test. */
function qemuIdentity(qemu: QemuUnderTest): QemuIdentity {
  const { binary, label, version, buildKey, ownSeries } = qemu;
  return { binary, label, firmwareDirs: [...qemu.firmwareDirs], ...(version ? { version } : {}), ...(buildKey ? { buildKey } : {}), ...(ownSeries ? { ownSeries } : {}) };
}

/** `unsupported` (or `error` when the guest program cannot tell) for a QEMU without -device sp-mem; undefined when it has it. */
async function spMemUnsupported(qemu: QemuUnderTest): Promise<Pick<Verdict, 'status' | 'reason' | 'findings'> | undefined> {
  const report = await cachedInterfaces(qemu.binary, qemu.firmwareDirs);
  const found = report.interfaces.spMem;
  if (found === 'present') return undefined;
  const version = report.qemuVersion ?? 'unknown version';
  if (found === 'absent') return { status: 'unsupported', reason: `QEMU ${version} has no -device sp-mem (QEMU >= 11.1): its -device help does not list it`, findings: [] };
  return { status: 'error', reason: `cannot tell whether QEMU ${version} has -device sp-mem: ${report.summary}`, findings: [] };
}

/** `beforeInit`: an early-verdict guest panicked after its firmware-table lines, so the guest program never ran (the raw tables could not be read). */
type BootOutcome = { qmp: QmpFacts; phases: CasePhases; beforeInit?: string } | { error: string };

/** Starts QEMU paused, asks QMP, lets the guest run until the evidence is in, and always stops QEMU. */
async function bootAndObserve(options: CaseRunOptions, args: string[], logPath: string, waitFor: 'guest' | 'tables' | 'kernel', onCommandLine: (argv: readonly string[]) => void): Promise<BootOutcome> {
  const needGuest = waitFor === 'guest';
  const marks = [performance.now()];
  const mark = () => marks.push(performance.now());
  let vm: Vm;
  try {
    vm = await launchVm({ binary: options.qemu.binary, args, qmp: options.transport ?? 'unix', logPath, timeoutMs: 60_000, onCommandLine });
  } catch (error) {
    if (error instanceof VmStartError) {
      // Told to quit (a signal) is not a refusal of the case's options.
      const told = /terminating on signal/.test(error.qemuMessage);
      return { error: `${told ? 'QEMU quit while starting' : 'QEMU refused to start'}: ${error.qemuMessage || error.message}` };
    }
    throw error;
  }
  mark();
  let qmp: QmpFacts | undefined;
  let beforeInit: string | undefined;
  try {
    qmp = await collectQmpFacts(vm.qmp);
    await cont(vm.qmp);
    mark();
    const timeoutMs = options.bootTimeoutMs ?? 180_000;
    const until = [{ guest: GUEST_DONE_LINE, tables: TABLES_DONE_LINE, kernel: FIRMWARE_TABLES_DONE }[waitFor]];
    const panicked = vm.waitForLine(KERNEL_PANIC, timeoutMs + 1_000).then((m) => Promise.reject(new Error(panicReason(m.line))));
    panicked.catch(() => {}); // settled by shutdown when the guest does not panic
    await Promise.race([vm.waitForAll(until, timeoutMs), panicked]);
    mark();
  } catch (error) {
    const panicAt = vm.serial.lines.findIndex((line) => KERNEL_PANIC.test(line));
    const panic = vm.serial.lines[panicAt];
    // A case about the firmware tables only has its facts once mem_init() printed `Memory:`; a
    // kernel that then cannot reach init (no RAM below 1 MiB) is the layout's outcome, not a broken run.
    const tablesIn = vm.serial.lines.slice(0, Math.max(0, panicAt)).some((line) => FIRMWARE_TABLES_DONE.test(line));
    if (panic !== undefined && !needGuest && tablesIn && qmp !== undefined) {
      beforeInit = panicReason(panic);
      mark();
    } else if (panic !== undefined) return { error: panicReason(panic) };
    else {
      // QEMU's own last words (e.g. "terminating on signal 15") say why the guest went away.
      const why = error instanceof HarnessError ? error.oneLine() : (error as Error).message;
      return { error: `guest did not finish: ${why}` };
    }
  } finally {
    await vm.shutdown({ graceMs: 5_000 });
  }
  mark();
  const [start = 0, up = 0, asked = 0, evidence = 0, stopped = 0] = marks;
  return { qmp, phases: { startMs: up - start, qmpMs: asked - up, guestMs: evidence - asked, stopMs: stopped - evidence }, ...(beforeInit ? { beforeInit } : {}) };
}

function panicReason(line: string): string {
  return `guest kernel panic: ${KERNEL_PANIC.exec(line)?.[0] ?? line}`;
}

/** The raw tables the guest read, beside the serial log (`<stem>.SRAT.dat`…), for `iasl -d` by hand. */
async function keepRawTables(layers: Layers, serialLog: string): Promise<void> {
  const stem = serialLog.replace(/\.serial\.log$/, '');
  for (const [key, read] of Object.entries(layers) as [keyof Layers, Layers[keyof Layers]][]) {
    if (read.state === 'read') await writeFile(`${stem}.${RAW_FILE_SUFFIX[key]}`, read.bytes);
  }
}

/**
 * A log with damaged E820/SRAT lines cannot prove that a row is absent, nor a
 * guest section with lines that are none of its own (one cut in two by a
 * console message) that a range or device is: say so as a failed check.
 */
function logIntegrity(log: SerialLog): Finding[] {
  const findings: Finding[] = [];
  if (log.warnings.length > 0) findings.push({ aspect: 'e820', check: 'serial log integrity', ok: false, detail: log.warnings.map((w) => `  ${w}`) });
  const stray = log.guest.stray;
  if (stray.length > 0) findings.push({ aspect: 'guest', check: "guest probe output integrity (lines that are none of their section's)", ok: false, detail: stray.map((s) => `  ${s.section}: ${JSON.stringify(s.text)}`) });
  return findings;
}
