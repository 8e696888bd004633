import type { Socket } from 'node:net';

/**
 * Works around a QEMU bug that makes QMP over a `websocket=on` chardev hang.
 *
 * QEMU runs every QMP monitor whose chardev supports it in the monitor I/O
 * thread. The WebSocket channel reads frames in the main loop into a buffer
 * and tells the I/O thread only through a GSource without a file descriptor,
 * so the I/O thread's poll() never wakes for it: the greeting goes out, but
 * commands sit unanswered until something else wakes that thread. Measured on
 * 10.2.2: on an idle machine a command waits forever; connecting to a second
 * QMP monitor makes the pending reply appear at once. (HMP over the same
 * chardev works; it runs in the main loop.) On a loaded machine something
 * else sometimes wakes the thread first, so whether the hang shows is a
 * matter of timing: no test pins it (a CI run saw the reply come).
 *
 * The waker is that second monitor: a plain UNIX-socket QMP monitor that the
 * harness never negotiates (so QEMU sends it nothing but its greeting) and
 * pokes with a newline, which the JSON parser ignores, while a WebSocket
 * command is unanswered.
 */
export class IothreadWaker {
  constructor(private readonly socket: Socket) {
    socket.on('error', () => {});
    socket.resume(); // discard the greeting
  }

  /** Wakes QEMU's monitor I/O thread once; a no-op once the socket is gone. */
  poke(): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write('\n');
  }

  /** Closes the waker's connection. */
  close(): void {
    this.socket.destroy();
  }
}
