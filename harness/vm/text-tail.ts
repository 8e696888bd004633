/** Keeps what a stream wrote as text, up to a byte bound, and hands out its last lines. */
export class TextTail {
  private text = '';
  private dropped = false;

  constructor(private readonly limit = 256 * 1024) {}

  /** Appends a chunk; the oldest text is dropped past the bound. */
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.limit) {
      this.text = this.text.slice(this.text.length - this.limit);
      this.dropped = true;
    }
  }

  /** All kept text (prefixed with a marker when the start was dropped). */
  get all(): string {
    return this.dropped ? `[…]${this.text}` : this.text;
  }

  /** The last `count` non-empty lines. */
  lastLines(count = 10): string[] {
    return this.text.split('\n').map((line) => line.trimEnd()).filter((line) => line !== '').slice(-count);
  }
}
