import { HarnessError } from '../util/errors.ts';

/** Base of every VM runner failure. */
export class VmError extends HarnessError {}

/**
 * QEMU did not come up: it exited during startup (refused an option, missing
 * firmware…) or never opened QMP. `qemuMessage` is QEMU's own error line.
 */
export class VmStartError extends VmError {
  constructor(
    message: string,
    /** QEMU's error line from stderr, or '' when it printed none. */
    readonly qemuMessage: string,
    /** Everything QEMU wrote to stderr (bounded). */
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** QEMU exited while something (a console wait) still expected output. */
export class VmExitedError extends VmError {
  constructor(
    message: string,
    /** The last lines QEMU wrote to stderr. */
    readonly stderrTail: readonly string[],
  ) {
    super(message, tailHint(stderrTail));
  }
}

/** A console wait saw no matching line in time. */
export class ConsoleTimeoutError extends VmError {
  constructor(
    message: string,
    /** The last lines of the serial console (ANSI stripped). */
    readonly consoleTail: readonly string[],
    /** The last lines QEMU wrote to stderr. */
    readonly stderrTail: readonly string[],
  ) {
    super(message, tailHint(stderrTail));
  }
}

function tailHint(stderrTail: readonly string[]): string | undefined {
  return stderrTail.length > 0 ? `QEMU stderr ends: ${stderrTail.join(' | ')}` : undefined;
}
