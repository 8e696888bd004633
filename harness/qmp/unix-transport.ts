import { createServer, type Server, type Socket } from 'node:net';
import { ConnectError, QmpTimeoutError } from './errors.ts';
import { withTimeout } from './deadline.ts';
import type { JsonObject } from './messages.ts';
import { LineTransport } from './transport.ts';

// sun_path is 108 bytes on Linux, including the terminating NUL.
const MAX_SOCKET_PATH = 107;

/**
 * A UNIX socket the harness listens on and QEMU connects to
 * (`-chardev socket,path=…,server=off`). Listening first means QEMU never
 * races us for the path: it connects during startup, before `-S` matters,
 * and a QEMU that cannot connect exits with a message instead of waiting.
 */
export class UnixListener {
  // The first connection, kept from the moment we listen: QEMU may connect before anyone calls accept().
  private readonly first: Promise<Socket>;

  private constructor(
    /** The socket's path. */
    readonly path: string,
    private readonly server: Server,
  ) {
    this.first = new Promise<Socket>((resolve) => server.once('connection', resolve));
  }

  /** Starts listening at `path` (which must not exist; put it in a private directory). */
  static async listen(path: string): Promise<UnixListener> {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      throw new ConnectError(`UNIX socket path is ${Buffer.byteLength(path)} bytes, the limit is ${MAX_SOCKET_PATH}: ${path}`, 'use a shorter temporary directory (TMPDIR)');
    }
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ConnectError(`cannot listen on ${path}: ${error.message}`)));
      server.listen(path, () => resolve());
    });
    return new UnixListener(path, server);
  }

  /**
   * Waits for the first connection, then stops listening. Rejects with
   * QmpTimeoutError after `timeoutMs`, or with `signal.reason` when aborted
   * (the launcher aborts when QEMU exits first).
   */
  async accept(timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
    const connected = new Promise<Socket>((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.first.then((socket) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(socket);
      });
    });
    try {
      return await withTimeout(connected, timeoutMs, () => new QmpTimeoutError(`connection from QEMU on ${this.path}`, timeoutMs));
    } finally {
      await this.close();
    }
  }

  /**
   * Stops listening (libuv removes the socket file); idempotent. Does not wait
   * for the server's 'close' event: that only comes once the accepted
   * connection has ended too.
   */
  async close(): Promise<void> {
    if (this.server.listening) this.server.close();
  }
}

/** QMP over a connected UNIX stream socket. */
export class UnixSocketTransport extends LineTransport {
  readonly description: string;

  constructor(
    private readonly socket: Socket,
    path: string,
  ) {
    super();
    this.description = `unix:${path}`;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.markClosed(error));
    socket.on('close', () => this.markClosed(undefined));
    socket.resume();
  }

  send(message: JsonObject): Promise<void> {
    if (this.isClosed || this.socket.destroyed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      this.socket.write(LineTransport.encode(message), (error) => (error ? reject(this.closedError()) : resolve()));
    });
  }

  close(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }
}
