import { HarnessError } from '../util/errors.ts';
import { scaledMs, timeoutFactor } from '../util/timeouts.ts';

/*
 * Every wait in the harness is bounded; these helpers keep the timer
 * bookkeeping (clear on settle, unref so a stray timer never holds the
 * process open) in one place.
 */

/** Checks a caller-supplied timeout: a positive, finite number of milliseconds. */
export function checkTimeout(ms: number, what: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new HarnessError(`${what} must be a positive number of milliseconds, got ${String(ms)}`);
  }
  return ms;
}

/** Settles like `promise`, or rejects with `onTimeout()` after `ms`; the timer is cleared either way. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), scaledMs(ms));
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The Date.now() value `ms` from now, the timeout factor applied (see util/timeouts.ts). */
export function deadlineAfter(ms: number): number {
  return Date.now() + scaledMs(ms);
}

/**
 * Milliseconds left until `deadline` (from deadlineAfter), never negative, in
 * unscaled terms: the wait it is handed to scales it back, so a chain of waits
 * shares one budget and the factor applies once.
 */
export function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now()) / timeoutFactor();
}
