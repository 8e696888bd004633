import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import { run, runOk } from '../util/subprocess.ts';
import { DEVICE_CONFIG_TREE_PATH, NINJA_TARGET, TIMEOUTS_MS } from './config.ts';
import type { Isolate } from './no-network.ts';
import { parseNinjaProgress, type BuildReporter } from '../host/progress.ts';

/** configure or ninja failed; `logFile` holds its whole output. */
export class BuildStepError extends HarnessError {
  constructor(message: string, readonly logFile: string) {
    super(message, `see ${logFile}`);
  }
}


/** Writes the device config into the tree, unless it is there already: a rewrite would make ninja run meson again. */
export async function writeDeviceConfig(tree: string, content: string): Promise<void> {
  const path = join(tree, DEVICE_CONFIG_TREE_PATH);
  if ((await readFile(path, 'utf8').catch(() => undefined)) === content) return;
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
}

interface StepOptions {
  tree: string;
  /** Wraps the command (no network by default: ./no-network.ts). */
  isolate: Isolate;
  env: Record<string, string>;
  logFile: string;
  signal: AbortSignal;
  reporter: BuildReporter;
}

/** `../configure ARGS` in <tree>/build, output to logFile. */
export async function configure(args: readonly string[], options: StepOptions): Promise<void> {
  const buildDir = join(options.tree, 'build');
  await mkdir(buildDir, { recursive: true });
  const result = await logged(options.logFile, (onLine) =>
    run(...options.isolate(join('..', 'configure'), args), { cwd: buildDir, env: options.env, timeoutMs: TIMEOUTS_MS.configure, signal: options.signal, onLine }),
  );
  if (result.exitCode !== 0) {
    throw new BuildStepError(`configure failed (exit ${result.exitCode}): ${configureErrorLine(result.all)}`, options.logFile);
  }
}

/** `ninja qemu-system-x86_64` in <tree>/build with a progress line; returns the binary's path. */
export async function ninja(options: StepOptions & { jobs?: number }): Promise<string> {
  const buildDir = join(options.tree, 'build');
  const args = [...(options.jobs ? ['-j', String(options.jobs)] : []), NINJA_TARGET];
  const result = await logged(options.logFile, (onLine) =>
    run(...options.isolate('ninja', args), {
      cwd: buildDir,
      env: options.env,
      timeoutMs: TIMEOUTS_MS.ninja,
      signal: options.signal,
      onLine: (line) => {
        onLine(line);
        const step = parseNinjaProgress(line);
        if (step) options.reporter.progress(step[0], step[1]);
      },
    }),
  ).finally(() => options.reporter.endProgress());
  if (result.exitCode !== 0) {
    throw new BuildStepError(`ninja failed (exit ${result.exitCode}): ${ninjaErrorLine(result.all)}`, options.logFile);
  }
  return join(buildDir, NINJA_TARGET);
}

/** `<binary> --version` → "10.2.2" (the first line's version), or the whole first line. */
export async function qemuVersionOf(binary: string, signal?: AbortSignal): Promise<string> {
  const result = await runOk(binary, ['--version'], { timeoutMs: TIMEOUTS_MS.version, signal, what: `${binary} --version` });
  return parseQemuVersion(result.stdout);
}

export function parseQemuVersion(output: string): string {
  const first = output.split('\n')[0]?.trim() ?? '';
  return /version\s+(\S+)/.exec(first)?.[1] ?? first;
}

/** Runs `step` with every output line appended to `logFile`; the file is complete when it resolves or rejects. */
async function logged<T>(logFile: string, step: (onLine: (line: string) => void) => Promise<T>): Promise<T> {
  const out = createWriteStream(logFile, { flags: 'a' });
  try {
    return await step((line) => out.write(`${line}\n`));
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
}

function configureErrorLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^(ERROR|meson\.build:\d+:\d+: ERROR):?/.test(l) || l.includes('ERROR:')) ?? lines.pop() ?? 'no output';
}

function ninjaErrorLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const failed = lines.findIndex((l) => l.startsWith('FAILED:'));
  if (failed < 0) return lines.pop() ?? 'no output';
  const detail = lines.slice(failed + 1).find((l) => /\berror\b/i.test(l) && !l.startsWith('ninja:'));
  return detail ? `${lines[failed]} — ${detail}` : (lines[failed] ?? 'FAILED');
}
