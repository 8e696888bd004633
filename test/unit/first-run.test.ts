import { describe, expect, it } from 'vitest';
import { MAKE_UNIT } from '../../harness/image/minimal-kernel.ts';
import { boardText, estimateLeftMs, progressBoard, type Lane } from '../../harness/run/progress-board.ts';
import { sideBySide } from '../../harness/run/prepare.ts';

/** A stream that is not a TTY and keeps what was written. */
function captureStream(): { stream: NodeJS.WriteStream; text: () => string } {
  let written = '';
  const stream = { isTTY: false, write: (chunk: string) => ((written += chunk), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => written };
}

const lane = (label: string, percent: number, startedAt: number, finished = false): Lane => ({ label, unit: { tool: 'ninja' }, percent, startedAt, finished });

describe('first run: one progress line for two builds', () => {
  it('names each build with its percentage and estimates from the slower one', () => {
    // QEMU: 50 % in 2 min → 2 min left; kernel: 20 % in 2 min → 8 min left.
    const lanes = [lane('QEMU', 50, 0), lane('kernel minimal-6.1', 20, 0)];
    expect(estimateLeftMs(lanes, 120_000)).toBe(480_000);
    expect(boardText(lanes, 120_000)).toBe('building: QEMU 50% · kernel minimal-6.1 20% · about 8 min left');
  });

  it('gives no estimate until every running build has a rate, and none for finished ones', () => {
    expect(estimateLeftMs([lane('QEMU', 50, 0), lane('kernel', 1, 0)], 120_000)).toBeUndefined();
    expect(estimateLeftMs([lane('QEMU', 50, 0)], 5_000)).toBeUndefined();
    expect(estimateLeftMs([lane('QEMU', 100, 0, true), lane('kernel', 90, 0)], 90_000)).toBe(10_000);
    expect(boardText([lane('QEMU', 100, 0, true), lane('kernel', 90, 0)], 90_000)).toBe('building: QEMU done · kernel 90% · under a minute left');
  });

  it('without a TTY prints a line when a build crosses a 10 % mark, and labels step lines', () => {
    let now = 0;
    const { stream, text } = captureStream();
    const board = progressBoard(stream, () => now);
    const qemu = board.reporter('QEMU');
    const kernel = board.reporter('kernel minimal-6.1', MAKE_UNIT);
    kernel.step('make tinyconfig + fragment + olddefconfig');
    for (let done = 1; done <= 25; done++) {
      now += 1000;
      qemu.progress(done, 100);
      kernel.progress(done * 2, 100);
    }
    qemu.endProgress();
    board.close();
    const lines = text().trimEnd().split('\n');
    expect(lines[0]).toBe('memmap-harness: kernel minimal-6.1: make tinyconfig + fragment + olddefconfig');
    // Marks crossed: kernel 0→…→50 % (5 lines after the first), QEMU 10 % and 20 %, then QEMU done.
    expect(lines.slice(1)).toEqual([
      'memmap-harness: building: QEMU 1%',
      'memmap-harness: building: QEMU 1% · kernel minimal-6.1 2%',
      'memmap-harness: building: QEMU 5% · kernel minimal-6.1 10%',
      'memmap-harness: building: QEMU 10% · kernel minimal-6.1 18%',
      // 9 s after their first progress: too soon for an estimate (10 s).
      'memmap-harness: building: QEMU 10% · kernel minimal-6.1 20%',
      // 14 s in: QEMU at 15 % has 79 s to go, the kernel at 30 % 33 s: the longer one counts.
      'memmap-harness: building: QEMU 15% · kernel minimal-6.1 30% · about 1 min left',
      'memmap-harness: building: QEMU 20% · kernel minimal-6.1 38% · about 1 min left',
      'memmap-harness: building: QEMU 20% · kernel minimal-6.1 40% · about 1 min left',
      'memmap-harness: building: QEMU 25% · kernel minimal-6.1 50% · about 1 min left',
      'memmap-harness: building: QEMU done · kernel minimal-6.1 50% · under a minute left',
    ]);
  });
});

describe('first run: QEMU and images side by side', () => {
  /** Work that ends after `ms` unless its signal aborts it first. */
  const work = <T>(value: T, ms: number, log: string[], name: string) => (signal: AbortSignal) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => (log.push(`${name} finished`), resolve(value)), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        log.push(`${name} aborted`);
        reject(new Error(`${name} aborted`));
      });
    });

  it('returns both results when both succeed', async () => {
    const log: string[] = [];
    await expect(sideBySide(work('qemu', 5, log, 'qemu'), work('images', 10, log, 'images'))).resolves.toEqual(['qemu', 'images']);
    expect(log).toEqual(['qemu finished', 'images finished']);
  });

  it('aborts the other on the first failure and throws that failure, after both settled', async () => {
    const log: string[] = [];
    const failing = async () => {
      await new Promise((r) => setTimeout(r, 5));
      log.push('qemu failed');
      throw new Error('configure failed');
    };
    await expect(sideBySide(failing, work('images', 10_000, log, 'images'))).rejects.toThrow('configure failed');
    expect(log).toEqual(['qemu failed', 'images aborted']);
  });
});
