import { UsageError } from './errors.ts';

/** The environment variable that multiplies every wait, for slow hosts (like QEMU's QEMU_TEST_TIMEOUT_EXPECTED factor). */
export const TIMEOUT_FACTOR_VARIABLE = 'MEMMAP_HARNESS_TIMEOUT_FACTOR';

/** The timeout multiplier from MEMMAP_HARNESS_TIMEOUT_FACTOR (default 1); a value that is not a positive number is a usage error. */
export function timeoutFactor(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[TIMEOUT_FACTOR_VARIABLE];
  if (text === undefined || text === '') return 1;
  const factor = Number(text);
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new UsageError(`${TIMEOUT_FACTOR_VARIABLE} must be a positive number, not '${text}'`, 'e.g. 2 doubles every timeout');
  }
  return factor;
}

/**
 * A wait's bound on this host: `ms` times the timeout factor. Every timer that
 * bounds a wait goes through here; poll intervals and back-offs do not.
 */
export function scaledMs(ms: number): number {
  return Math.round(ms * timeoutFactor());
}

/**
 * The timeout factor of the test suite's boot-heavy projects (integration and
 * cases): the user's MEMMAP_HARNESS_TIMEOUT_FACTOR when set, else 2. The suite
 * runs one file at a time and at most one guest per core at once, so the
 * margin it needs is for the rest of the machine: it must pass on two cores
 * that another process keeps busy too, where every wait takes up to twice as long.
 */
export function suiteTimeoutFactor(env: NodeJS.ProcessEnv = process.env): number {
  const given = env[TIMEOUT_FACTOR_VARIABLE];
  return given === undefined || given === '' ? 2 : timeoutFactor(env);
}
