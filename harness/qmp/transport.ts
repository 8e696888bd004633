import { ConnectionLostError, QmpError } from './errors.ts';
import { JsonLineDecoder } from './line-decoder.ts';
import type { JsonObject } from './messages.ts';

/** What a transport reports to its single consumer (the QmpClient). */
export interface TransportHandlers {
  /** One complete server message, in arrival order. */
  message(message: JsonObject): void;
  /** The connection is gone; `reason` is undefined for an orderly close. Called once. */
  closed(reason: Error | undefined): void;
}

/** A QMP connection below the protocol: moves JSON objects, knows nothing of ids or events. */
export interface QmpTransport {
  /** Where it is connected, for error messages (e.g. "unix:/tmp/x/qmp.sock"). */
  readonly description: string;
  /** Starts delivery; messages that arrived earlier (the greeting) are delivered first. Once only. */
  attach(handlers: TransportHandlers): void;
  /** Sends one message as one JSON line; rejects with ConnectionLostError if the connection is gone. */
  send(message: JsonObject): Promise<void>;
  /** Closes the connection; idempotent. Resolves once the connection is closed. */
  close(): Promise<void>;
}

/**
 * Shared receive side of the transports: line reassembly, a backlog until a
 * consumer attaches (QEMU sends its greeting the moment it connects), and a
 * close that is reported exactly once.
 */
export abstract class LineTransport implements QmpTransport {
  abstract readonly description: string;
  private readonly decoder = new JsonLineDecoder();
  private handlers: TransportHandlers | undefined;
  private backlog: JsonObject[] = [];
  // undefined while open; { reason } once closed.
  private closeState: { reason: Error | undefined } | undefined;

  abstract send(message: JsonObject): Promise<void>;
  abstract close(): Promise<void>;

  /** True once the connection has closed. */
  get isClosed(): boolean {
    return this.closeState !== undefined;
  }

  attach(handlers: TransportHandlers): void {
    if (this.handlers) throw new QmpError(`QMP transport ${this.description} already has a consumer`);
    this.handlers = handlers;
    const backlog = this.backlog;
    this.backlog = [];
    for (const message of backlog) handlers.message(message);
    if (this.closeState) handlers.closed(this.closeState.reason);
  }

  /** Feeds received bytes; a malformed line ends the connection with ServerParseError. */
  protected receive(chunk: Uint8Array | string): void {
    if (this.closeState) return;
    let messages: JsonObject[];
    try {
      messages = this.decoder.push(chunk);
    } catch (error) {
      this.markClosed(error as Error);
      void this.close();
      return;
    }
    for (const message of messages) {
      this.onMessage(message);
      if (this.handlers) this.handlers.message(message);
      else this.backlog.push(message);
    }
  }

  /** Hook for subclasses that watch traffic (see WebSocketTransport). */
  protected onMessage(_message: JsonObject): void {}

  /** Records the close once and tells the consumer. */
  protected markClosed(reason: Error | undefined): void {
    if (this.closeState) return;
    this.closeState = { reason };
    this.handlers?.closed(reason);
  }

  /** The error a send on a closed connection rejects with. */
  protected closedError(): ConnectionLostError {
    return new ConnectionLostError(`send on ${this.description}`, { cause: this.closeState?.reason });
  }

  /** Serialises one message as QEMU reads it: compact JSON plus newline. */
  protected static encode(message: JsonObject): Buffer {
    return Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
  }
}
