import { constants } from 'node:fs';
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { QmpClient } from '../qmp/client.ts';
import { checkTimeout, deadlineAfter, delay, remaining } from '../qmp/deadline.ts';
import { HarnessError } from '../util/errors.ts';
import { VmStartError } from './errors.ts';
import { exitWithParentArgs } from './exit-with-parent.ts';
import { createPrivateDir } from './private-dir.ts';
import { prepareQmpEndpoint, type QmpEndpoint, type QmpTransportKind } from './qmp-endpoint.ts';
import { describeExit, QemuProcess, type VmExit } from './qemu-process.ts';
import { registerVm } from './registry.ts';
import { Vm } from './vm.ts';

/** What launchVm needs. */
export interface LaunchOptions {
  /** The QEMU system binary, e.g. …/build/qemu-system-x86_64. */
  binary: string;
  /** QEMU's arguments (machine, memory, NUMA, firmware, kernel…). launchVm adds -S, the QMP monitor and the serial port. */
  args: readonly string[];
  /** QMP transport; default 'unix'. */
  qmp?: QmpTransportKind;
  /** From spawn until QMP is negotiated; default 30 s. */
  timeoutMs?: number;
  /** Default bound for each QMP command; default 30 s. */
  commandTimeoutMs?: number;
  /** QEMU writes the raw serial output here (default: serial.log in the VM's private directory, removed with it). */
  logPath?: string;
  /** Parent of the VM's private temp directory; default the OS temp directory. */
  tmpRoot?: string;
  /** Told the full command line (binary first) just before QEMU is spawned: reports record it. */
  onCommandLine?: (argv: readonly string[]) => void;
}

// Options that would take the serial port or stdio away from the harness.
const CONFLICTING = new Set(['-serial', '-daemonize', '-nographic']);

/**
 * Starts QEMU paused (-S) with a QMP monitor and the serial port written to a file,
 * and returns once QMP is negotiated. A QEMU that exits or never opens QMP
 * becomes a VmStartError carrying QEMU's own error line; the process and the
 * temp directory are gone before the error is thrown.
 */
export async function launchVm(options: LaunchOptions): Promise<Vm> {
  const kind = options.qmp ?? 'unix';
  const timeoutMs = checkTimeout(options.timeoutMs ?? 30_000, 'launchVm timeoutMs');
  checkArgs(options);
  await checkExecutable(options.binary);
  const dir = await createPrivateDir(options.tmpRoot);
  let endpoint: QmpEndpoint | undefined;
  let qemu: QemuProcess | undefined;
  let unregister = (): void => {};
  try {
    endpoint = await prepareQmpEndpoint(kind, { dir: dir.path });
    const serialFile = options.logPath ?? join(dir.path, 'serial.log');
    const serialArgs = ['-chardev', `file,id=serial0,path=${serialFile.replaceAll(',', ',,')}`, '-serial', 'chardev:serial0'];
    const argv = [...options.args, '-S', ...(await exitWithParentArgs(options.binary)), ...endpoint.args, ...serialArgs];
    options.onCommandLine?.([options.binary, ...argv]);
    const spawned = await QemuProcess.spawn(options.binary, argv, { serialFile });
    qemu = spawned;
    unregister = registerVm({ killNow: () => spawned.killNow(), removeNow: () => dir.removeNow() });
    const qmp = await openQmp(spawned, endpoint, kind, timeoutMs, options.commandTimeoutMs);
    return new Vm(spawned, qmp, kind, dir, unregister);
  } catch (error) {
    await endpoint?.close();
    if (qemu) {
      await qemu.killAndWait().catch(() => {});
      await qemu.serial.close();
    }
    await dir.remove();
    unregister();
    throw error;
  }
}

/** Connects and negotiates, racing QEMU's exit and the start timeout. */
async function openQmp(qemu: QemuProcess, endpoint: QmpEndpoint, kind: QmpTransportKind, timeoutMs: number, commandTimeoutMs: number | undefined): Promise<QmpClient> {
  const deadline = deadlineAfter(timeoutMs);
  const quitEarly = new AbortController();
  void qemu.exited.then((exit) => quitEarly.abort(exitedDuringStart(qemu, exit)));
  try {
    const transport = await endpoint.connect(timeoutMs, quitEarly.signal);
    return await QmpClient.connect(transport, { timeoutMs: Math.max(1, remaining(deadline)), ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }) });
  } catch (error) {
    if (error instanceof VmStartError) throw error;
    // QEMU that refuses an option may drop QMP a moment before it exits: let its own message win.
    const exit = await Promise.race([qemu.exited, delay(1000).then(() => undefined)]);
    if (exit) throw exitedDuringStart(qemu, exit, error);
    const message = `QEMU did not bring up QMP over ${kind} within ${timeoutMs} ms: ${(error as Error).message}`;
    throw new VmStartError(message, qemu.qemuMessage(), qemu.stderr.all, { cause: error });
  }
}

function exitedDuringStart(qemu: QemuProcess, exit: VmExit, cause?: unknown): VmStartError {
  const qemuMessage = qemu.qemuMessage();
  const message = `QEMU exited during startup (${describeExit(exit)}): ${qemuMessage || 'it printed nothing on stderr'}`;
  return new VmStartError(message, qemuMessage, exit.stderr, cause === undefined ? {} : { cause });
}

/** One clear line for a malformed argument list. */
function checkArgs(options: LaunchOptions): void {
  if (!Array.isArray(options.args) || options.args.some((arg) => typeof arg !== 'string')) {
    throw new HarnessError('launchVm: args must be an array of strings (QEMU is run without a shell)');
  }
  const conflict = options.args.find((arg) => CONFLICTING.has(arg.replace(/^--/, '-')));
  if (conflict) throw new HarnessError(`launchVm: args must not contain ${conflict}`, 'launchVm adds the serial port itself and needs QEMU in the foreground');
}

async function checkExecutable(binary: string): Promise<void> {
  if (typeof binary !== 'string' || binary === '') throw new HarnessError('launchVm: binary must be the path of a QEMU binary');
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new HarnessError(`QEMU binary '${binary}' does not exist or is not executable`, 'build it first or pass the right path');
  }
}
