import { LINE_EVERY_MS, LINE_EVERY_PERCENT, progressPercent, type BuildReporter, type ProgressUnit } from '../host/progress.ts';

/**
 * One progress line for builds that run at once (a first run builds QEMU and
 * the guest kernel side by side):
 *   memmap-harness: building: QEMU 41% · kernel minimal-6.1 23% · about 6 min left
 * Each build's step lines still go out as lines of their own, named by the build.
 */
export interface ProgressBoard {
  /** The reporter one build writes to; `label` names it on the shared line and before its step lines. */
  reporter(label: string, unit?: ProgressUnit): BuildReporter;
  /** Ends the shared line (a TTY's updating line gets its newline). */
  close(): void;
}

/** A build's place on the board. */
export interface Lane {
  label: string;
  unit: ProgressUnit;
  percent: number;
  /** When its first progress came: the estimate runs from there, not from the configure step before it. */
  startedAt: number;
  finished: boolean;
}

/** Below this much done or this long running, a rate says too little to estimate from. */
const ESTIMATE_FROM_PERCENT = 3;
const ESTIMATE_FROM_MS = 10_000;

export function progressBoard(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressBoard {
  const tty = stream.isTTY === true;
  const lanes: Lane[] = [];
  let open = false;
  let lastLineAt = 0;
  let lastLinePercents = '';

  const endLine = () => {
    if (open) stream.write('\n');
    open = false;
  };
  const render = () => {
    const text = `memmap-harness: ${boardText(lanes, now())}`;
    if (tty) {
      stream.write(`\r\x1b[K${text}`);
      open = true;
      return;
    }
    // Without a TTY: a line when some build crossed a 10 % mark, or every 30 s.
    const marks = lanes.map((l) => (l.finished ? 'done' : Math.floor(l.percent / LINE_EVERY_PERCENT))).join(',');
    if (marks === lastLinePercents && now() - lastLineAt < LINE_EVERY_MS) return;
    stream.write(`${text}\n`);
    lastLinePercents = marks;
    lastLineAt = now();
  };

  return {
    reporter(label, unit = { tool: 'ninja' }) {
      let lane: Lane | undefined;
      return {
        step(message) {
          endLine();
          stream.write(`memmap-harness: ${label}: ${message}\n`);
        },
        progress(done, total) {
          if (!lane) {
            lane = { label, unit, percent: 0, startedAt: now(), finished: false };
            lanes.push(lane);
          }
          lane.percent = progressPercent(unit, done, total);
          render();
        },
        endProgress() {
          if (!lane || lane.finished) return;
          lane.finished = true;
          render();
        },
      };
    },
    close: endLine,
  };
}

/** `building: QEMU 41% · kernel minimal-6.1 done · about 6 min left` */
export function boardText(lanes: readonly Lane[], at: number): string {
  const parts = lanes.map((l) => `${l.label} ${l.finished ? 'done' : `${l.percent}%`}`);
  const left = estimateLeftMs(lanes, at);
  if (left !== undefined) parts.push(left < 60_000 ? 'under a minute left' : `about ${Math.round(left / 60_000)} min left`);
  return `building: ${parts.join(' · ')}`;
}

/**
 * The longest of the unfinished builds' remaining times, each extrapolated from
 * its own rate so far; undefined until every one of them has a rate worth
 * extrapolating. Builds sharing the cores speed up when one ends, so this errs long.
 */
export function estimateLeftMs(lanes: readonly Lane[], at: number): number | undefined {
  const running = lanes.filter((l) => !l.finished);
  if (running.length === 0) return undefined;
  let longest = 0;
  for (const lane of running) {
    const elapsed = at - lane.startedAt;
    if (lane.percent < ESTIMATE_FROM_PERCENT || elapsed < ESTIMATE_FROM_MS) return undefined;
    longest = Math.max(longest, (elapsed * (100 - lane.percent)) / lane.percent);
  }
  return longest;
}
