import { connect } from 'node:net';
import WebSocket, { type RawData } from 'ws';
import { ConnectError } from './errors.ts';
import { deadlineAfter, delay, remaining } from './deadline.ts';
import type { IothreadWaker } from './iothread-waker.ts';
import { isReply, type JsonObject } from './messages.ts';
import { LineTransport } from './transport.ts';
import { scaledMs } from '../util/timeouts.ts';

/** How often a waker pokes QEMU while a WebSocket command is unanswered. */
const POKE_INTERVAL_MS = 10;

/** Options for connectWebSocket. */
export interface WebSocketConnectOptions {
  /** QEMU's `-chardev socket,path=P,server=on,wait=off,websocket=on` UNIX socket (in a 0700 directory). */
  socketPath: string;
  /** Gives up (ConnectError) when QEMU has not accepted within this time. */
  timeoutMs: number;
  /** Stops retrying, rejecting with `signal.reason` (the launcher aborts when QEMU exits). */
  signal?: AbortSignal;
  /** Works around QEMU's unwoken monitor I/O thread; see IothreadWaker. */
  waker?: IothreadWaker;
}

/**
 * Connects to QEMU's WebSocket chardev on its UNIX socket, retrying while
 * QEMU is not yet listening (it binds early in startup, but after exec).
 */
export async function connectWebSocket(options: WebSocketConnectOptions): Promise<WebSocketTransport> {
  const url = `ws+unix:${options.socketPath}`;
  const deadline = deadlineAfter(options.timeoutMs);
  let lastError: Error | undefined;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw options.signal.reason;
    try {
      const opened = await openOnce(options.socketPath, Math.max(1, remaining(deadline)));
      return new WebSocketTransport(opened, url, options.waker);
    } catch (error) {
      lastError = error as Error;
    }
    if (remaining(deadline) === 0) break;
    await delay(Math.min(25 * 2 ** attempt, 250, remaining(deadline)), options.signal);
  }
  if (options.signal?.aborted) throw options.signal.reason;
  throw new ConnectError(`cannot connect to QMP at ${url} within ${options.timeoutMs} ms: ${lastError?.message ?? 'no attempt made'}`);
}

/** A socket whose handshake is done, with what arrived before anyone listened. */
export interface OpenedSocket {
  socket: WebSocket;
  /** Frames received so far; still filled until `collect` is removed. */
  early: Buffer[];
  /** The listener filling `early`. */
  collect: (data: RawData) => void;
}

/** One connection attempt; resolves when the handshake is done. */
function openOnce(socketPath: string, timeoutMs: number): Promise<OpenedSocket> {
  return new Promise((resolve, reject) => {
    // The HTTP upgrade goes over our own UNIX connection (a path in a URL would need
    // escaping); the host in the URL only fills the Host header QEMU asks for.
    // QEMU does not negotiate extensions; it accepts only binary frames from us.
    const socket = new WebSocket('ws://localhost/', { perMessageDeflate: false, createConnection: () => connect(socketPath) });
    // ws's handshakeTimeout never fires with our own createConnection (measured): bound the handshake ourselves.
    const timer = setTimeout(() => fail(new ConnectError(`no WebSocket handshake from ${socketPath} within ${timeoutMs} ms`)), scaledMs(timeoutMs));
    // QEMU writes its greeting right behind the handshake reply, often in the same
    // TCP segment: ws then emits 'message' in the same tick as 'open', before any
    // listener added after an await would exist. Collect from the start.
    const early: Buffer[] = [];
    const collect = (data: RawData): void => void early.push(toBuffer(data));
    socket.on('message', collect);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.terminate();
      reject(error);
    };
    socket.once('open', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      resolve({ socket, early, collect });
    });
    socket.once('error', fail);
  });
}

/**
 * QMP over QEMU's WebSocket chardev. QEMU sends each chardev write as one
 * binary frame (so a message may span frames, and a frame may hold several)
 * and closes the connection on any text frame from the client: everything we
 * send goes out as a binary frame.
 */
export class WebSocketTransport extends LineTransport {
  readonly description: string;
  private unanswered = 0;
  private pokeTimer: NodeJS.Timeout | undefined;

  private readonly socket: WebSocket;

  constructor(
    opened: OpenedSocket,
    url: string,
    private readonly waker?: IothreadWaker,
  ) {
    super();
    this.description = url;
    const socket = (this.socket = opened.socket);
    socket.off('message', opened.collect);
    socket.on('message', (data: RawData) => this.receive(toBuffer(data)));
    for (const chunk of opened.early) this.receive(chunk);
    socket.on('error', (error) => this.ended(error));
    socket.on('close', (code, reason) => this.ended(code === 1000 || code === 1005 || code === 1006 ? undefined : new ConnectError(`WebSocket closed with ${code} ${reason.toString()}`)));
  }

  send(message: JsonObject): Promise<void> {
    if (this.isClosed || this.socket.readyState !== WebSocket.OPEN) return Promise.reject(this.closedError());
    // Counted before sending: the reply may overtake the send callback.
    if ('execute' in message || 'exec-oob' in message) this.expectReply();
    return new Promise((resolve, reject) => {
      this.socket.send(LineTransport.encode(message), { binary: true }, (error) => (error ? reject(this.closedError()) : resolve()));
    });
  }

  close(): Promise<void> {
    this.stopPoking();
    this.waker?.close();
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      // A close handshake could wait on QEMU's unwoken thread; just drop the TCP connection.
      this.socket.terminate();
    });
  }

  protected override onMessage(message: JsonObject): void {
    if (isReply(message) && this.unanswered > 0 && --this.unanswered === 0) this.stopPoking();
  }

  private ended(reason: Error | undefined): void {
    this.stopPoking();
    this.waker?.close();
    this.markClosed(reason);
  }

  private expectReply(): void {
    if (!this.waker) return;
    this.unanswered++;
    this.waker.poke();
    if (!this.pokeTimer) {
      this.pokeTimer = setInterval(() => this.waker?.poke(), POKE_INTERVAL_MS);
      this.pokeTimer.unref();
    }
  }

  private stopPoking(): void {
    clearInterval(this.pokeTimer);
    this.pokeTimer = undefined;
  }
}

/** ws hands over a Buffer, an ArrayBuffer or fragments; the decoder wants bytes. */
function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
