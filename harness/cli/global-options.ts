import { UsageError } from '../util/errors.ts';
import { timeoutFactor } from '../util/timeouts.ts';

/** Boolean global flags and the variable each sets. */
const GLOBAL_FLAGS: Readonly<Record<string, string>> = {
  '--refresh': 'MEMMAP_HARNESS_REFRESH',
  '--offline': 'MEMMAP_HARNESS_OFFLINE',
  '--keep-scratch': 'MEMMAP_HARNESS_KEEP_SCRATCH',
  '--allow-network': 'MEMMAP_HARNESS_ALLOW_NETWORK',
};

/**
 * Takes the options every command accepts out of `argv` and turns them into
 * the environment the stages read, so a flag and its variable are one thing
 * (see ENV_OVERRIDES); returns the other arguments in order.
 */
export function takeGlobalOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const flagVariable = GLOBAL_FLAGS[arg];
    if (flagVariable !== undefined) {
      env[flagVariable] = '1';
    } else if (arg === '--timeout-factor' || arg.startsWith('--timeout-factor=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (value === undefined) throw new UsageError('--timeout-factor needs a number', 'e.g. --timeout-factor 2');
      env.MEMMAP_HARNESS_TIMEOUT_FACTOR = value;
    } else {
      rest.push(arg);
    }
  }
  // A bad factor (flag or variable) is a usage error now, not in the middle of a run.
  timeoutFactor(env);
  return rest;
}
