import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../util/errors.ts';

/** Where `--json` sends a command's JSON: stdout, or a file. */
export type JsonTarget = { to: 'stdout' } | { to: 'file'; path: string };

/** The `--json` convention, as `--help` and the README state it. */
export const JSON_OPTION_HELP = [
  '--json, the same for every command:',
  '  --json              JSON on stdout; every human line goes to stderr',
  '  --json FILE.json    JSON written to FILE.json (the next argument is the file only when it ends in .json)',
  '  --json=FILE         JSON written to FILE, whatever its name (--json=- is stdout)',
].join('\n');

/**
 * Takes `--json [FILE]` out of a command's arguments (see JSON_OPTION_HELP).
 * The file must end in `.json` when given as the next argument, so that
 * `parse --json saved.log` never overwrites the log it was asked to read.
 */
export function takeJsonOption(args: readonly string[]): { args: string[]; json?: JsonTarget } {
  const rest: string[] = [];
  let json: JsonTarget | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg !== '--json' && !arg.startsWith('--json=')) {
      rest.push(arg);
      continue;
    }
    if (json !== undefined) throw new UsageError('--json given twice', 'give it once: --json (stdout) or --json FILE.json');
    const next = args[i + 1];
    const value = arg.startsWith('--json=') ? arg.slice('--json='.length) : next !== undefined && (next === '-' || /\.json$/i.test(next)) && !next.startsWith('--') ? args[++i] : '-';
    if (value === '') throw new UsageError('--json= needs a file name', 'or give --json alone for stdout');
    json = value === '-' ? { to: 'stdout' } : { to: 'file', path: resolve(value as string) };
  }
  return json === undefined ? { args: rest } : { args: rest, json };
}

/**
 * With JSON on stdout, stdout must carry nothing else: the command's human
 * lines (console.log, here and in every stage it calls) go to stderr instead.
 */
export function keepStdoutForJson(json: JsonTarget | undefined): void {
  if (json?.to === 'stdout') console.log = console.error;
}

/** Writes `value` (already JSON-safe) where `--json` said: stdout, or the file (parents made). */
export async function emitJson(target: JsonTarget, value: unknown): Promise<void> {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (target.to === 'stdout') {
    process.stdout.write(text);
    return;
  }
  await mkdir(dirname(target.path), { recursive: true });
  await writeFile(target.path, text);
}

/** With --json: a function writing what a run hands it (as `toJson` makes it, else as it is) where --json said; else undefined. */
export function jsonEmitter<T>(target: JsonTarget | undefined, toJson: (value: T) => unknown = (value) => value): ((value: T) => Promise<void>) | undefined {
  return target ? (value) => emitJson(target, toJson(value)) : undefined;
}

/** With --json: the report.json the run wrote, on stdout or to the file (matrix and cell). */
export async function emitReportJson(json: JsonTarget | undefined, results: string): Promise<void> {
  if (json) await emitJson(json, JSON.parse(await readFile(join(results, 'report.json'), 'utf8')) as unknown);
}
