import { checkTimeout, deadlineAfter, remaining, withTimeout } from './deadline.ts';
import { ConnectionLostError, ExecuteError, GreetingError, NegotiationError, QmpError, QmpTimeoutError } from './errors.ts';
import { isErrorReply, isEvent, isGreeting, isReply, type JsonObject, type JsonValue, type QemuVersionInfo, type QmpEvent, type QmpGreeting } from './messages.ts';
import type { QmpTransport } from './transport.ts';

/** Bounds for QmpClient.connect. */
export interface QmpConnectOptions {
  /** Greeting plus capability negotiation; default 10 s. */
  timeoutMs?: number;
  /** Default bound for each execute(); default 30 s. */
  commandTimeoutMs?: number;
}

/** Per-call options for execute(). */
export interface ExecuteOptions {
  /** Overrides the client's default command timeout. */
  timeoutMs?: number;
}

/** Options for waitForEvent(). */
export interface WaitForEventOptions {
  /** Only events this accepts count (e.g. a SHUTDOWN with a given reason). */
  match?: (event: QmpEvent) => boolean;
  /** Also consider events already received (the client keeps the last EVENT_LOG_LIMIT). */
  includePast?: boolean;
}

/** How many past events the client keeps for eventLog and includePast. */
export const EVENT_LOG_LIMIT = 1000;

interface PendingCommand {
  command: string;
  resolve(value: JsonValue): void;
  reject(error: Error): void;
}

interface Subscriber {
  event(event: QmpEvent): void;
  closed(reason: Error | undefined): void;
}

/**
 * A negotiated QMP session over any QmpTransport: commands matched to replies
 * by id, events fanned out to subscribers, every wait bounded.
 */
export class QmpClient {
  private readonly pending = new Map<string, PendingCommand>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly log: QmpEvent[] = [];
  private nextId = 1;
  private greetingWaiter: { resolve(greeting: QmpGreeting): void; reject(error: Error): void } | undefined;
  private greetingValue: QmpGreeting | undefined;
  private closeState: { reason: Error | undefined } | undefined;
  private resolveClosed!: (reason: Error | undefined) => void;

  /** Resolves when the connection is gone (undefined reason: orderly close). Never rejects. */
  readonly closed: Promise<Error | undefined> = new Promise((resolve) => (this.resolveClosed = resolve));

  private constructor(
    private readonly transport: QmpTransport,
    private readonly commandTimeoutMs: number,
  ) {}

  /** Reads the greeting, negotiates capabilities, and returns a client in command mode. */
  static async connect(transport: QmpTransport, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = checkTimeout(options.timeoutMs ?? 10_000, 'QMP connect timeoutMs');
    const client = new QmpClient(transport, checkTimeout(options.commandTimeoutMs ?? 30_000, 'QMP commandTimeoutMs'));
    const deadline = deadlineAfter(timeoutMs);
    const greeting = new Promise<QmpGreeting>((resolve, reject) => (client.greetingWaiter = { resolve, reject }));
    transport.attach({ message: (m) => client.handleMessage(m), closed: (r) => client.handleClosed(r) });
    try {
      client.greetingValue = await withTimeout(greeting, timeoutMs, () => new QmpTimeoutError(`greeting from ${transport.description}`, timeoutMs));
      await client.negotiate(Math.max(1, remaining(deadline)));
      return client;
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  /** The greeting QEMU sent. */
  get greeting(): QmpGreeting {
    return this.greetingValue as QmpGreeting;
  }

  /** QEMU's version from the greeting. */
  get version(): QemuVersionInfo {
    return this.greeting.QMP.version;
  }

  /** True until the connection closes. */
  get isConnected(): boolean {
    return this.closeState === undefined;
  }

  /** Events received so far, oldest first (at most EVENT_LOG_LIMIT). */
  get eventLog(): readonly QmpEvent[] {
    return this.log;
  }

  /**
   * Runs a command and returns its `return` value, typed by the caller.
   * Rejects with ExecuteError (QEMU's error class and desc), QmpTimeoutError
   * or ConnectionLostError.
   */
  async execute<T = unknown>(command: string, args?: JsonObject, options: ExecuteOptions = {}): Promise<T> {
    const timeoutMs = checkTimeout(options.timeoutMs ?? this.commandTimeoutMs, `timeoutMs for '${command}'`);
    if (this.closeState) throw new ConnectionLostError(`reply to '${command}'`, { cause: this.closeState.reason });
    const id = `h${this.nextId++}`;
    const reply = new Promise<JsonValue>((resolve, reject) => this.pending.set(id, { command, resolve, reject }));
    reply.catch(() => {}); // a close may reject it while send() is still failing; that error wins
    const message: JsonObject = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    try {
      await this.transport.send(message);
      return (await withTimeout(reply, timeoutMs, () => new QmpTimeoutError(`reply to '${command}'`, timeoutMs))) as T;
    } finally {
      this.pending.delete(id);
    }
  }

  /** Calls `listener` for every event from now on; returns the unsubscribe function. */
  onEvent(listener: (event: QmpEvent) => void): () => void {
    const subscriber: Subscriber = { event: listener, closed: () => {} };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /**
   * Resolves with the first event named `name` (and accepted by `match`)
   * after this call, or also before it with `includePast`. Start waiting
   * before triggering the event: `const stop = qmp.waitForEvent('STOP', 5000); await qmp.execute('stop'); await stop;`.
   */
  waitForEvent(name: string, timeoutMs: number, options: WaitForEventOptions = {}): Promise<QmpEvent> {
    checkTimeout(timeoutMs, `timeoutMs for event ${name}`);
    const wanted = (event: QmpEvent): boolean => event.event === name && (options.match?.(event) ?? true);
    const past = options.includePast ? this.log.find(wanted) : undefined;
    if (past) return Promise.resolve(past);
    let subscriber: Subscriber | undefined;
    const seen = new Promise<QmpEvent>((resolve, reject) => {
      if (this.closeState) return reject(new ConnectionLostError(`event ${name}`, { cause: this.closeState.reason }));
      subscriber = {
        event: (event) => wanted(event) && resolve(event),
        closed: (reason) => reject(new ConnectionLostError(`event ${name}`, { cause: reason })),
      };
      this.subscribers.add(subscriber);
    });
    const cleanup = (): void => {
      if (subscriber) this.subscribers.delete(subscriber);
    };
    return withTimeout(seen, timeoutMs, () => new QmpTimeoutError(`event ${name}`, timeoutMs)).finally(cleanup);
  }

  /**
   * Events from now on as an async iterator; each next() waits at most
   * `idleTimeoutMs` (QmpTimeoutError). The iterator ends when the connection
   * closes; break out of the loop to unsubscribe.
   */
  events(idleTimeoutMs: number): AsyncIterableIterator<QmpEvent> {
    checkTimeout(idleTimeoutMs, 'events idleTimeoutMs');
    const queue: QmpEvent[] = [];
    let wake: (() => void) | undefined;
    let finished = this.closeState !== undefined;
    const subscriber: Subscriber = {
      event: (event) => {
        queue.push(event);
        wake?.();
      },
      closed: () => {
        finished = true;
        wake?.();
      },
    };
    this.subscribers.add(subscriber);
    const finish = (): IteratorResult<QmpEvent> => {
      finished = true;
      this.subscribers.delete(subscriber);
      return { value: undefined, done: true };
    };
    const next = async (): Promise<IteratorResult<QmpEvent>> => {
      if (queue.length === 0 && !finished) {
        const arrived = new Promise<void>((resolve) => (wake = resolve));
        await withTimeout(arrived, idleTimeoutMs, () => new QmpTimeoutError('next event', idleTimeoutMs)).finally(() => (wake = undefined));
      }
      const event = queue.shift();
      return event ? { value: event, done: false } : finish();
    };
    return {
      next,
      return: async () => finish(),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Closes the connection; pending waits reject with ConnectionLostError. Idempotent. */
  async close(): Promise<void> {
    await this.transport.close();
    this.handleClosed(undefined);
  }

  private async negotiate(timeoutMs: number): Promise<void> {
    try {
      await this.execute('qmp_capabilities', undefined, { timeoutMs });
    } catch (error) {
      if (!(error instanceof ExecuteError)) throw error;
      throw new NegotiationError(`QMP capability negotiation with ${this.transport.description} failed: ${error.errorClass}: ${error.desc}`);
    }
  }

  private handleMessage(message: JsonObject): void {
    if (this.greetingWaiter) return this.handleGreeting(message);
    if (isEvent(message)) return this.handleEvent(message);
    if (isReply(message)) return this.handleReply(message);
    // Anything else is not QMP we know; ignore it rather than guess.
  }

  private handleGreeting(message: JsonObject): void {
    const waiter = this.greetingWaiter;
    this.greetingWaiter = undefined;
    if (isGreeting(message)) return waiter?.resolve(message);
    waiter?.reject(new GreetingError(`expected a QMP greeting from ${this.transport.description}, got: ${JSON.stringify(message).slice(0, 200)}`));
  }

  private handleEvent(event: QmpEvent): void {
    this.log.push(event);
    if (this.log.length > EVENT_LOG_LIMIT) this.log.shift();
    for (const subscriber of [...this.subscribers]) subscriber.event(event);
  }

  private handleReply(message: JsonObject): void {
    // Replies carry our id; one without (QEMU could not parse a request) answers the
    // oldest command, as in-band commands are answered in order.
    const id = typeof message.id === 'string' ? message.id : this.pending.keys().next().value;
    const entry = id === undefined ? undefined : this.pending.get(id);
    if (!entry || id === undefined) return;
    this.pending.delete(id);
    if (isErrorReply(message)) entry.reject(new ExecuteError(entry.command, message.error.class, message.error.desc));
    else entry.resolve(message.return as JsonValue);
  }

  private handleClosed(reason: Error | undefined): void {
    if (this.closeState) return;
    this.closeState = { reason };
    this.greetingWaiter?.reject(reason instanceof QmpError ? reason : new ConnectionLostError('greeting', { cause: reason }));
    this.greetingWaiter = undefined;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      entry.reject(new ConnectionLostError(`reply to '${entry.command}'`, { cause: reason }));
    }
    for (const subscriber of [...this.subscribers]) subscriber.closed(reason);
    this.resolveClosed(reason);
  }
}
