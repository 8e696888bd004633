import { basename } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { delay } from '../qmp/deadline.ts';
import { VmError, VmExitedError } from './errors.ts';
import { SerialConsole } from './serial-console.ts';
import { TextTail } from './text-tail.ts';

/** How a QEMU process ended. */
export interface VmExit {
  /** Exit status, when it exited on its own. */
  exitCode: number | undefined;
  /** The signal that killed it, e.g. 'SIGKILL'. */
  signal: string | undefined;
  /** Everything it wrote to stderr (bounded). */
  stderr: string;
  /** Why it could not even be started (spawn failure), if so. */
  spawnError?: string;
}

/** Options for QemuProcess.spawn. */
export interface SpawnOptions {
  /** File for the raw serial output. */
  logPath?: string;
}

/**
 * One QEMU child process, run from an argument array (never a shell): serial
 * on stdout into a SerialConsole, stderr kept for error messages, and an
 * `exited` promise that settles once the process is gone and its pipes are
 * drained.
 */
export class QemuProcess {
  /** Resolves with how QEMU ended. Never rejects. */
  readonly exited: Promise<VmExit>;
  private exit: VmExit | undefined;

  private constructor(
    private readonly binary: string,
    private readonly child: ResultPromise<{ buffer: false; reject: false }>,
    /** The serial console (QEMU's stdout). */
    readonly serial: SerialConsole,
    /** QEMU's stderr. */
    readonly stderr: TextTail,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => serial.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin?.on('error', () => {}); // writing to a QEMU that just exited is not an error worth a crash
    this.exited = child.then(
      (result) => this.ended({ exitCode: result.exitCode, signal: result.signal, stderr: stderr.all, ...spawnError(result) }),
      // reject: false means execa resolves even on failure; this is belt and braces.
      (error: unknown) => this.ended({ exitCode: undefined, signal: undefined, stderr: stderr.all, spawnError: String(error) }),
    );
  }

  /** Records the exit and fails console waits that can no longer be met. */
  private ended(exit: VmExit): VmExit {
    this.exit = exit;
    const tail = this.stderr.lastLines(5);
    this.serial.end((missing) => new VmExitedError(`QEMU exited (${describeExit(exit)}) before the console printed ${missing.join(', ')}`, tail));
    return exit;
  }

  /** Starts `binary` with `argv`. */
  static async spawn(binary: string, argv: readonly string[], options: SpawnOptions = {}): Promise<QemuProcess> {
    const stderr = new TextTail();
    const serial = await SerialConsole.create(options.logPath, () => stderr.lastLines(5));
    const child = execa(binary, argv, {
      stdin: 'pipe', // -serial stdio reads it; kept open so tests can type into the guest
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      forceKillAfterDelay: 2000,
    });
    return new QemuProcess(binary, child, serial, stderr);
  }

  /** The process id (undefined if spawning failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How it ended, once it has. */
  get exitInfo(): VmExit | undefined {
    return this.exit;
  }

  /** Sends text to the guest's serial port. */
  writeSerial(text: string): void {
    this.child.stdin?.write(text);
  }

  /** SIGKILL, synchronously; a no-op once exited. */
  killNow(): void {
    if (!this.exit) this.child.kill('SIGKILL');
  }

  /** SIGKILL, then waits (bounded) for the exit. */
  async killAndWait(timeoutMs = 5000): Promise<VmExit> {
    this.killNow();
    const exit = await Promise.race([this.exited, delay(timeoutMs).then(() => undefined)]);
    if (!exit) throw new VmError(`QEMU (pid ${this.pid}) did not exit within ${timeoutMs} ms of SIGKILL`);
    return exit;
  }

  /**
   * QEMU's own error line: the last stderr line it prefixed with its program
   * name ("qemu-system-x86_64: -foo: invalid option"), else the last line.
   */
  qemuMessage(): string {
    const lines = this.stderr.lastLines(50);
    const prefix = `${basename(this.binary)}:`;
    return [...lines].reverse().find((line) => line.startsWith(prefix)) ?? lines.at(-1) ?? '';
  }
}

/** The spawn error of a result that never ran. */
function spawnError(result: { failed: boolean; exitCode?: number; signal?: string; originalMessage?: string; shortMessage?: string }): Pick<VmExit, 'spawnError'> {
  if (!result.failed || result.exitCode !== undefined || result.signal !== undefined) return {};
  return { spawnError: result.originalMessage || result.shortMessage || 'unknown spawn failure' };
}

/** "exit code 1", "signal SIGKILL" or the spawn error. */
export function describeExit(exit: VmExit): string {
  if (exit.spawnError) return `could not start: ${exit.spawnError}`;
  if (exit.signal) return `signal ${exit.signal}`;
  return `exit code ${exit.exitCode ?? '?'}`;
}
