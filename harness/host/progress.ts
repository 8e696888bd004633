/** How the builder tells a person what it is doing: step lines, and a progress line for ninja. */
export interface BuildReporter {
  step(message: string): void;
  progress(done: number, total: number): void;
  /** Ends a progress line (a TTY's updating line gets its newline). */
  endProgress(): void;
}

export const silentReporter: BuildReporter = { step() {}, progress() {}, endProgress() {} };

/** Without a TTY, a progress line at most every this many percent, or this often. */
export const LINE_EVERY_PERCENT = 10;
export const LINE_EVERY_MS = 30_000;

/** What a progress line counts: the build tool's name, and whether its total is an estimate (printed "~N", held below 100 %). */
export interface ProgressUnit {
  tool: string;
  approximate?: boolean;
}

const NINJA: ProgressUnit = { tool: 'ninja' };

/** `ninja [12/100] 12%`, or `make [12/~100] 12%` for an estimated total. */
export function progressText(unit: ProgressUnit, done: number, total: number): string {
  return `${unit.tool} [${done}/${unit.approximate ? '~' : ''}${total}] ${progressPercent(unit, done, total)}%`;
}

/** Whole percent done; an estimated total never reads 100 % before the build says it is done. */
export function progressPercent(unit: ProgressUnit, done: number, total: number): number {
  const percent = total > 0 ? Math.floor((done * 100) / total) : 0;
  return Math.min(unit.approximate ? 99 : 100, percent);
}

/** Step lines on stderr; on a TTY one updating progress line, otherwise a line every 10 % or 30 s. */
export function stderrReporter(stream: NodeJS.WriteStream = process.stderr, unit: ProgressUnit = NINJA): BuildReporter {
  const tty = stream.isTTY === true;
  let lastPercent = -LINE_EVERY_PERCENT;
  let lastLineAt = 0;
  let open = false;
  return {
    step(message) {
      if (open) this.endProgress();
      stream.write(`memmap-harness: ${message}\n`);
    },
    progress(done, total) {
      const percent = progressPercent(unit, done, total);
      const text = `memmap-harness: ${progressText(unit, done, total)}`;
      if (tty) {
        stream.write(`\r\x1b[K${text}`);
        open = true;
        return;
      }
      const now = Date.now();
      if (percent - lastPercent >= LINE_EVERY_PERCENT || now - lastLineAt >= LINE_EVERY_MS || done === total) {
        stream.write(`${text}\n`);
        lastPercent = percent;
        lastLineAt = now;
      }
    },
    endProgress() {
      if (open) stream.write('\n');
      open = false;
      lastPercent = -LINE_EVERY_PERCENT;
    },
  };
}

/** "[123/1000] Compiling C object …" → [123, 1000]. */
export function parseNinjaProgress(line: string): [number, number] | undefined {
  const match = /^\[(\d+)\/(\d+)\]/.exec(line);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}
