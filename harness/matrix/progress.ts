import type { Outcome } from './row.ts';

/** Live progress of a matrix run. */
export interface Progress {
  started(label: string): void;
  finished(label: string, outcome: Outcome, seconds: number): void;
  /** Prints a line above the progress line (TTY) or as is. */
  note(line: string): void;
  stop(): void;
}

interface Stream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const MARK: Record<Outcome, string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', changed: 'CHANGED' };

/**
 * On a TTY one line that rewrites itself (counts, running, elapsed, last
 * finished) and refreshes each second; elsewhere (CI logs, pipes) one line per
 * finished run, so a log reads top to bottom.
 */
export function createProgress(total: number, stream: Stream = process.stderr, now: () => number = Date.now): Progress {
  const t0 = now();
  const counts: Record<Outcome, number> = { pass: 0, fail: 0, error: 0, changed: 0 };
  const running = new Set<string>();
  let last = '';
  const tty = stream.isTTY === true;
  const done = () => counts.pass + counts.fail + counts.error + counts.changed;
  const tally = () => `${counts.pass} pass, ${counts.fail} fail, ${counts.error} error${counts.changed ? `, ${counts.changed} CHANGED` : ''}`;
  const line = () => `[${String(done()).padStart(String(total).length)}/${total}] ${running.size} running | ${tally()} | ${elapsed(now() - t0)}${last ? ` | ${last}` : ''}`;
  const draw = () => {
    if (tty) stream.write(`\r\x1b[K${line().slice(0, (stream.columns ?? 160) - 1)}`);
  };
  const timer = tty ? setInterval(draw, 1000) : undefined;
  timer?.unref();
  return {
    started(label) {
      running.add(label);
      draw();
    },
    finished(label, outcome, seconds) {
      running.delete(label);
      counts[outcome] += 1;
      last = `${MARK[outcome]} ${label} ${seconds.toFixed(0)}s`;
      if (tty) draw();
      else stream.write(`${line()}\n`);
    },
    note(text) {
      stream.write(tty ? `\r\x1b[K${text}\n` : `${text}\n`);
      draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) stream.write(`\r\x1b[K${line()}\n`);
    },
  };
}

/** `3m07s`, `42s`. */
export function elapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
