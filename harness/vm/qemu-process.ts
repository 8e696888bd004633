import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { delay } from '../qmp/deadline.ts';
import { VmError, VmExitedError } from './errors.ts';
import { FileFollower } from './file-follower.ts';
import { SerialConsole } from './serial-console.ts';
import { TextTail } from './text-tail.ts';
import { scaledMs } from '../util/timeouts.ts';

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
  /** The file QEMU writes the serial port to (`-chardev file`); followed into the SerialConsole. */
  serialFile: string;
}

/**
 * One QEMU child process, run from an argument array (never a shell): the
 * serial log file QEMU writes followed into a SerialConsole, stderr kept for
 * error messages, and an `exited` promise that settles once the process is
 * gone and the serial file is read to its end.
 */
export class QemuProcess {
  /** Resolves with how QEMU ended. Never rejects. */
  readonly exited: Promise<VmExit>;
  private exit: VmExit | undefined;

  private constructor(
    private readonly binary: string,
    private readonly child: ResultPromise<{ buffer: false; reject: false }>,
    /** The serial console (the file QEMU writes, followed). */
    readonly serial: SerialConsole,
    /** QEMU's stderr. */
    readonly stderr: TextTail,
    follower: FileFollower,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    const settled = child.then(
      (result): VmExit => ({ exitCode: result.exitCode, signal: result.signal, stderr: stderr.all, ...spawnError(result) }),
      // reject: false means execa resolves even on failure; this is belt and braces.
      (error: unknown): VmExit => ({ exitCode: undefined, signal: undefined, stderr: stderr.all, spawnError: String(error) }),
    );
    this.exited = settled.then(async (exit) => {
      await follower.stop();
      return this.ended(exit);
    });
  }

  /** Records the exit and fails console waits that can no longer be met. */
  private ended(exit: VmExit): VmExit {
    this.exit = exit;
    const tail = this.stderr.lastLines(5);
    this.serial.end((missing) => new VmExitedError(`QEMU exited (${describeExit(exit)}) before the console printed ${missing.join(', ')}`, tail));
    return exit;
  }

  /** Starts `binary` with `argv`. */
  static async spawn(binary: string, argv: readonly string[], options: SpawnOptions): Promise<QemuProcess> {
    const stderr = new TextTail();
    // QEMU writes the raw log itself; the console only reads it.
    const serial = await SerialConsole.create(undefined, () => stderr.lastLines(5));
    // A log left at this path by an earlier run (a case run twice into one results dir) would be
    // followed before QEMU truncates it: its old lines, `Memory:` included, would end the wait early.
    await rm(options.serialFile, { force: true });
    const follower = FileFollower.start(options.serialFile, (chunk) => serial.push(chunk));
    const child = execa(binary, argv, {
      // Unused pipes, not 'ignore': with both ignored, a SIGTERM to the harness
      // left it running (measured; vm.test.ts pins the SIGTERM behaviour).
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      forceKillAfterDelay: 2000,
    });
    return new QemuProcess(binary, child, serial, stderr, follower);
  }

  /** The process id (undefined if spawning failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How it ended, once it has. */
  get exitInfo(): VmExit | undefined {
    return this.exit;
  }

  /** SIGKILL, synchronously; a no-op once exited. */
  killNow(): void {
    if (!this.exit) this.child.kill('SIGKILL');
  }

  /** SIGKILL, then waits (bounded) for the exit. */
  async killAndWait(timeoutMs = 5000): Promise<VmExit> {
    this.killNow();
    const exit = await Promise.race([this.exited, delay(scaledMs(timeoutMs)).then(() => undefined)]);
    if (!exit) throw new VmError(`QEMU (pid ${this.pid}) did not exit within ${scaledMs(timeoutMs)} ms of SIGKILL`);
    return exit;
  }

  /**
   * QEMU's own error line: the last stderr line it prefixed with its program
   * name ("qemu-system-x86_64: -foo: invalid option"), else the last line.
   * The binary run may be a wrapper script of another name that execs QEMU,
   * so any `qemu-system-*:` prefix counts too.
   */
  qemuMessage(): string {
    const lines = this.stderr.lastLines(50);
    const own = `${basename(this.binary)}:`;
    const isQemuLine = (line: string) => line.startsWith(own) || /^qemu-system-[\w-]+: /.test(line);
    return [...lines].reverse().find(isQemuLine) ?? lines.at(-1) ?? '';
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
