import { open } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import stripAnsi from 'strip-ansi';
import { checkTimeout } from '../qmp/deadline.ts';
import { ConsoleTimeoutError } from './errors.ts';
import { scaledMs } from '../util/timeouts.ts';

/** A console line that matched, with its position for follow-up waits. */
export interface LineMatch {
  /** The line as matched (ANSI and control characters removed). */
  line: string;
  /** Its index in `lines`; pass `after: index` to wait for something later. */
  index: number;
  /** The regex match on `line`. */
  match: RegExpExecArray;
}

/** Options for the console waits. */
export interface LineWaitOptions {
  /** Only consider lines after this index (default: every line since boot). */
  after?: number;
}

interface Waiter {
  patterns: RegExp[];
  found: (LineMatch | undefined)[];
  after: number;
  resolve(matches: LineMatch[]): void;
  reject(error: Error): void;
}

// C0 and C1 controls except TAB, left after ANSI sequences are stripped (SeaBIOS noise).
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * QEMU's serial port (on its stdout): the raw bytes go to a log file as they
 * arrive, and a text view (ANSI and control characters stripped) is split into
 * lines for matching. Lines end at LF, CRLF or a lone CR, whichever chunk
 * boundaries they straddle.
 */
export class SerialConsole {
  private readonly utf8 = new StringDecoder('utf8');
  private readonly done: string[] = [];
  private partial = '';
  private readonly waiters = new Set<Waiter>();
  private ended: ((missing: string[]) => Error) | undefined;

  private constructor(
    private readonly log: WriteStream | undefined,
    private readonly stderrTail: () => readonly string[],
  ) {}

  /** Opens `logPath` (truncating it) when given; `stderrTail` feeds error messages. */
  static async create(logPath: string | undefined, stderrTail: () => readonly string[]): Promise<SerialConsole> {
    const log = logPath === undefined ? undefined : (await open(logPath, 'w')).createWriteStream();
    log?.on('error', () => {}); // a full disk must not kill the harness; the log is best effort
    return new SerialConsole(log, stderrTail);
  }

  /** Complete lines so far, stripped. */
  get lines(): readonly string[] {
    return this.done;
  }

  /** The stripped text so far, including an unfinished last line. */
  get text(): string {
    const partial = stripAnsi(this.partial).replace(CONTROL, '');
    return partial === '' ? this.done.join('\n') : [...this.done, partial].join('\n');
  }

  /** Feeds bytes from QEMU's stdout. */
  push(chunk: Buffer): void {
    this.log?.write(chunk);
    this.partial += this.utf8.write(chunk);
    // CRs at the very end may be the start of a CRLF cut by the chunk boundary:
    // they only split once a non-CR character follows.
    const pieces = this.partial.split(/\r*\n|\r+(?=[^\r])/);
    this.partial = pieces.pop() ?? '';
    for (const piece of pieces) this.addLine(piece);
  }

  /** QEMU's stdout closed: the last unfinished line counts; open waits fail with `error(patterns still missing)`. */
  end(error: (missing: string[]) => Error): void {
    if (this.ended) return;
    const rest = (this.partial + this.utf8.end()).replace(/\r+$/, '');
    this.partial = '';
    if (rest !== '') this.addLine(rest);
    this.ended = error;
    for (const waiter of [...this.waiters]) this.settle(waiter, error(missing(waiter)));
  }

  /** Resolves with the first line matching `pattern`; rejects on timeout (ConsoleTimeoutError) or QEMU exit (VmExitedError). */
  async waitForLine(pattern: RegExp, timeoutMs: number, options: LineWaitOptions = {}): Promise<LineMatch> {
    const [match] = await this.waitForAll([pattern], timeoutMs, options);
    return match as LineMatch;
  }

  /** Resolves when every pattern has matched some line (in any order); matches in the patterns' order. */
  waitForAll(patterns: readonly RegExp[], timeoutMs: number, options: LineWaitOptions = {}): Promise<LineMatch[]> {
    checkTimeout(timeoutMs, 'console wait timeoutMs');
    return new Promise<LineMatch[]>((resolve, reject) => {
      const waiter: Waiter = {
        // Without g/y so exec() has no lastIndex state between lines.
        patterns: patterns.map((p) => new RegExp(p.source, p.flags.replace(/[gy]/g, ''))),
        found: patterns.map(() => undefined),
        after: options.after ?? -1,
        resolve,
        reject,
      };
      this.done.forEach((line, index) => this.offer(waiter, line, index));
      if (this.complete(waiter)) return resolve(waiter.found as LineMatch[]);
      if (this.ended) return reject(this.ended(missing(waiter)));
      this.waiters.add(waiter);
      const boundMs = scaledMs(timeoutMs);
      const timer = setTimeout(() => this.settle(waiter, this.timeoutError(waiter, boundMs)), boundMs);
      timer.unref();
      const clear = (): void => clearTimeout(timer);
      waiter.resolve = (m) => (clear(), resolve(m));
      waiter.reject = (e) => (clear(), reject(e));
    });
  }

  /** Writes the log file out and closes it. */
  async close(): Promise<void> {
    const log = this.log;
    if (!log || log.closed) return;
    await new Promise<void>((resolve) => {
      log.once('close', () => resolve());
      log.once('error', () => resolve());
      log.end();
    });
  }

  private addLine(raw: string): void {
    const line = stripAnsi(raw).replace(CONTROL, '').trimEnd();
    const index = this.done.push(line) - 1;
    for (const waiter of [...this.waiters]) {
      this.offer(waiter, line, index);
      if (this.complete(waiter)) this.settle(waiter);
    }
  }

  private offer(waiter: Waiter, line: string, index: number): void {
    if (index <= waiter.after) return;
    waiter.patterns.forEach((pattern, i) => {
      if (waiter.found[i]) return;
      const match = pattern.exec(line);
      if (match) waiter.found[i] = { line, index, match };
    });
  }

  private complete(waiter: Waiter): boolean {
    return waiter.found.every((found) => found !== undefined);
  }

  private settle(waiter: Waiter, error?: Error): void {
    if (!this.waiters.delete(waiter)) return;
    if (error) waiter.reject(error);
    else waiter.resolve(waiter.found as LineMatch[]);
  }

  private timeoutError(waiter: Waiter, timeoutMs: number): ConsoleTimeoutError {
    return new ConsoleTimeoutError(`no console line matched ${missing(waiter).join(', ')} within ${timeoutMs} ms`, this.done.slice(-10), this.stderrTail());
  }
}

/** The patterns a waiter has not matched yet, as source text. */
function missing(waiter: Waiter): string[] {
  return waiter.patterns.filter((_, i) => !waiter.found[i]).map(String);
}
