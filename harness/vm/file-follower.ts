import { open, type FileHandle } from 'node:fs/promises';

const POLL_MS = 25;
const CHUNK = 64 * 1024;

/**
 * Follows a file another process appends to (QEMU writing the serial port),
 * handing each new piece to `onData`. Polling, not fs.watch: it is simple,
 * bounded (every 25 ms) and never misses bytes. QEMU writes the serial log
 * itself because a pipe would drop bytes: QEMU sends the UART a byte at a
 * time, and when the reader is slow the write fails with EAGAIN and QEMU gives
 * up on the byte after a few retries (BIOS-e820 lines lost characters under
 * load that way). A regular file never refuses a write.
 */
export class FileFollower {
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private handle: FileHandle | undefined;

  private constructor(
    private readonly path: string,
    private readonly onData: (chunk: Buffer) => void,
  ) {}

  /** Starts following `path` (which may not exist yet). */
  static start(path: string, onData: (chunk: Buffer) => void): FileFollower {
    const follower = new FileFollower(path, onData);
    follower.poll();
    follower.timer = setInterval(() => follower.poll(), POLL_MS);
    follower.timer.unref();
    return follower;
  }

  /** Reads what is left and stops; call once the writer has exited. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reading;
    await this.readNew();
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
  }

  private poll(): void {
    this.reading = this.reading.then(() => this.readNew()).catch(() => {});
  }

  private async readNew(): Promise<void> {
    this.handle ??= await open(this.path, 'r').catch(() => undefined);
    if (!this.handle) return;
    for (;;) {
      const buffer = Buffer.alloc(CHUNK);
      const { bytesRead } = await this.handle.read(buffer, 0, CHUNK, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      this.onData(buffer.subarray(0, bytesRead));
    }
  }
}
