import { HarnessError } from '../util/errors.ts';

/*
 * The QMP error taxonomy, named after QEMU's python/qemu/qmp where a name
 * exists there. Every error is a HarnessError, so the CLI prints one line.
 */

/** Base of every QMP failure. */
export class QmpError extends HarnessError {}

/** The server's first message was not a QMP greeting (`{"QMP": {...}}`). */
export class GreetingError extends QmpError {}

/** `qmp_capabilities` was refused, so the session never left negotiation mode. */
export class NegotiationError extends QmpError {}

/** A line from the server was not a JSON object; the connection is unusable after it. */
export class ServerParseError extends QmpError {
  constructor(message: string, readonly line: string) {
    super(message);
  }
}

/** The connection could not be opened (refused, bad path, gave up retrying). */
export class ConnectError extends QmpError {}

/** QEMU answered a command with `{"error": {"class", "desc"}}`. */
export class ExecuteError extends QmpError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP command '${command}' failed: ${errorClass}: ${desc}`);
  }
}

/** A wait (greeting, command reply, event) ran out of time. */
export class QmpTimeoutError extends QmpError {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`QMP ${operation}: no answer within ${timeoutMs} ms`);
  }
}

/** The connection closed (QEMU exited or hung up) while something was waiting on it. */
export class ConnectionLostError extends QmpError {
  constructor(operation: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`QMP connection lost while waiting for ${operation}${why}`);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
