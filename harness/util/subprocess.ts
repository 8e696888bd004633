import { execa } from 'execa';
import { HarnessError } from './errors.ts';
import { scaledMs } from './timeouts.ts';

/**
 * Every child the builder starts goes through `run`: arguments as an array (no
 * shell), a timeout, cancellation through an AbortSignal, SIGKILL when SIGTERM
 * is ignored, and execa's `cleanup` so a child never outlives this process.
 */
export interface RunOptions {
  cwd?: string;
  /** Hard limit; the child is killed when it is reached. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  input?: string | Uint8Array;
  /** Called with each line of stdout and stderr as it arrives. */
  onLine?: (line: string) => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  all: string;
}

const FORCE_KILL_AFTER_MS = 5_000;

/** The run was cancelled through its AbortSignal (SIGINT/SIGTERM of the harness, or a caller's abort). */
export class InterruptedError extends HarnessError {
  constructor(what: string, reason: string) {
    super(`${what} interrupted (${reason})`, 'rerun the command; nothing incomplete was kept');
  }
}

export class SubprocessError extends HarnessError {}

/** Runs `file args`; resolves with its output whatever its exit code, throws on timeout, cancellation or a missing program. */
export async function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const what = `${file} ${args.slice(0, 3).join(' ')}${args.length > 3 ? ' …' : ''}`;
  if (options.signal?.aborted) throw new InterruptedError(what, abortReason(options.signal));
  const onLine = options.onLine;
  const tap = onLine
    ? function* (line: unknown) {
        onLine(String(line));
        yield line;
      }
    : undefined;
  const result = await execa(file, [...args], {
    cwd: options.cwd,
    env: options.env,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    stdout: tap ? [tap] : 'pipe',
    stderr: tap ? [tap] : 'pipe',
    all: true,
    reject: false,
    timeout: scaledMs(options.timeoutMs),
    cancelSignal: options.signal,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    cleanup: true,
    stripFinalNewline: true,
  });
  if (result.isCanceled) throw new InterruptedError(what, options.signal ? abortReason(options.signal) : 'cancelled');
  if (result.timedOut) throw new SubprocessError(`${what} timed out after ${Math.round(scaledMs(options.timeoutMs) / 1000)} s and was killed`, 'the machine may be overloaded; retry when it is idle');
  if (result.exitCode === undefined) {
    const why = result.signal ? `killed by ${result.signal}` : firstLine(result.message ?? 'no exit code');
    throw new SubprocessError(`${what} failed to run: ${why}`, `check that '${file}' is installed (scripts/setup-debian.sh)`);
  }
  return { exitCode: result.exitCode, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), all: String(result.all ?? '') };
}

/** Like `run`, but a non-zero exit is an error whose line says `what` failed and why. */
export async function runOk(file: string, args: readonly string[], options: RunOptions & { what?: string; hint?: string }): Promise<RunResult> {
  const result = await run(file, args, options);
  if (result.exitCode !== 0) {
    const why = lastMeaningfulLine(result.stderr) ?? lastMeaningfulLine(result.stdout) ?? `exit code ${result.exitCode}`;
    throw new SubprocessError(`${options.what ?? `${file} ${args[0] ?? ''}`} failed: ${why}`, options.hint);
  }
  return result;
}

export function lastMeaningfulLine(text: string): string | undefined {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).pop();
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return reason.message;
  return 'aborted';
}
