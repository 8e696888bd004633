import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { HarnessError } from './errors.ts';
import { scaledMs } from './timeouts.ts';

const SETPRIV = '/usr/bin/setpriv';
const HAS_SETPRIV = existsSync(SETPRIV);

/**
 * `file args` run so that the child gets SIGKILL when this process dies, even
 * by SIGKILL (no handler runs then: execa's `cleanup` cannot help). util-linux's
 * setpriv sets the parent-death signal and execs the program in place (same
 * pid). Without setpriv the command is unchanged.
 */
export function dyingWithParent(file: string, args: readonly string[]): [string, string[]] {
  return HAS_SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', file, ...args]] : [file, [...args]];
}

// setpriv's words when it cannot exec the program (exit 127): the same as a missing program.
const SETPRIV_EXEC_FAILED = /^setpriv: failed to execute .*$/m;

/**
 * Every child the builder starts goes through `run`: arguments as an array (no
 * shell), a timeout, cancellation through an AbortSignal, SIGKILL when SIGTERM
 * is ignored, and execa's `cleanup` plus a parent-death signal (dyingWithParent)
 * so a child never outlives this process, even one killed with SIGKILL.
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
  const [program, argv] = dyingWithParent(file, args);
  const result = await execa(program, argv, {
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
  const execFailed = result.exitCode === 127 ? SETPRIV_EXEC_FAILED.exec(String(result.stderr ?? ''))?.[0] : undefined;
  if (result.exitCode === undefined || execFailed) {
    const why = execFailed ?? (result.signal ? `killed by ${result.signal}` : firstLine(result.message ?? 'no exit code'));
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
