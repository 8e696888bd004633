import { join } from 'node:path';
import { IothreadWaker } from '../qmp/iothread-waker.ts';
import { deadlineAfter, remaining } from '../qmp/deadline.ts';
import type { QmpTransport } from '../qmp/transport.ts';
import { UnixListener, UnixSocketTransport } from '../qmp/unix-transport.ts';
import { connectWebSocket } from '../qmp/websocket-transport.ts';

/** Which QMP transport a VM is driven over. */
export type QmpTransportKind = 'unix' | 'websocket';

/** QEMU's side (arguments) and the harness's side (connect) of one VM's QMP channel. */
export interface QmpEndpoint {
  /** `-chardev … -mon …` arguments to append to QEMU's command line. */
  readonly args: readonly string[];
  /** Waits until the channel is open; `signal` aborts (QEMU exited) with its reason. */
  connect(timeoutMs: number, signal: AbortSignal): Promise<QmpTransport>;
  /** Releases listeners that were never connected; idempotent. */
  close(): Promise<void>;
}

/** Options for prepareQmpEndpoint. */
export interface QmpEndpointOptions {
  /** The VM's private 0700 directory, for socket files. */
  dir: string;
}

/** Prepares the listener or port for `kind` before QEMU starts. */
export async function prepareQmpEndpoint(kind: QmpTransportKind, options: QmpEndpointOptions): Promise<QmpEndpoint> {
  if (kind === 'unix') return unixEndpoint(join(options.dir, 'qmp.sock'));
  return websocketEndpoint(join(options.dir, 'qmp-ws.sock'), join(options.dir, 'qmp-wake.sock'));
}

/** The harness listens; QEMU connects as a client, so nobody races for the path. */
async function unixEndpoint(path: string): Promise<QmpEndpoint> {
  const listener = await UnixListener.listen(path);
  return {
    args: ['-chardev', `socket,id=qmp,path=${optionValue(path)},server=off`, '-mon', 'chardev=qmp,mode=control'],
    async connect(timeoutMs, signal) {
      return new UnixSocketTransport(await listener.accept(timeoutMs, signal), path);
    },
    close: () => listener.close(),
  };
}

/**
 * QEMU listens (WebSocket over a UNIX socket) at `path` in the VM's 0700
 * directory, so no other local user can reach the monitor: a loopback TCP
 * port would let any uid connect and drive QEMU. The path is in a directory
 * only we can write, so nobody can take it first either. The waker monitor
 * connects to us like the unix one. It stays on always: without it a reply
 * arrives only when something else happens to wake QEMU's monitor thread, so
 * whether a command hangs depends on the machine's load (see IothreadWaker).
 */
async function websocketEndpoint(path: string, wakePath: string): Promise<QmpEndpoint> {
  const wakeListener = await UnixListener.listen(wakePath);
  const args = [
    '-chardev', `socket,id=qmp,path=${optionValue(path)},server=on,wait=off,websocket=on`, '-mon', 'chardev=qmp,mode=control',
    '-chardev', `socket,id=qmp-wake,path=${optionValue(wakePath)},server=off`, '-mon', 'chardev=qmp-wake,mode=control',
  ];
  return {
    args,
    async connect(timeoutMs, signal) {
      const deadline = deadlineAfter(timeoutMs);
      const waker = new IothreadWaker(await wakeListener.accept(timeoutMs, signal));
      try {
        return await connectWebSocket({ socketPath: path, timeoutMs: Math.max(1, remaining(deadline)), signal, waker });
      } catch (error) {
        waker.close();
        throw error;
      }
    },
    close: async () => wakeListener.close(),
  };
}

/** QEMU's option parser ends a value at a comma; a literal comma is written twice. */
function optionValue(value: string): string {
  return value.replaceAll(',', ',,');
}
