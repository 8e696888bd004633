import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { FIRMWARE_IDS, isFirmwareId } from '../image/firmware.ts';
import { isKernelId, KERNEL_IDS } from '../image/kernel.ts';
import type { RunOptions } from '../run/execute.ts';
import type { QemuChoice } from '../run/resolve-qemu.ts';
import { newResultsDir } from '../run/results-dir.ts';
import { acceleratorChoiceOf } from '../util/accel.ts';
import { HarnessError, UsageError } from '../util/errors.ts';
import { takeJsonOption, type JsonTarget } from './json-output.ts';

/*
 * The options several commands share, defined once: their parseArgs tables,
 * their checks (each error word for word as the commands have always given
 * it) and run's whole option set, which start takes too.
 */

/** The parseArgs table of the options commands declare (node:util's own type). */
type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** A QEMU to build: its source and series (--source, --patches, --no-patches). */
export const BUILD_OPTIONS = {
  source: { type: 'string' },
  patches: { type: 'string' },
  'no-patches': { type: 'boolean' },
} as const satisfies OptionTable;
/** The QEMU under test: a binary (--qemu), or a build (BUILD_OPTIONS). */
export const QEMU_OPTIONS = { qemu: { type: 'string' }, ...BUILD_OPTIONS } as const satisfies OptionTable;

/** --case NAME, repeatable. */
export const CASE_OPTION = { case: { type: 'string', multiple: true } } as const satisfies OptionTable;
/** --jobs N (checked by parseJobs). */
export const JOBS_OPTION = { jobs: { type: 'string' } } as const satisfies OptionTable;
/** --accel tcg|kvm|auto (read by acceleratorChoiceOf). */
export const ACCEL_OPTION = { accel: { type: 'string' } } as const satisfies OptionTable;
/** --transport unix|websocket (checked by transportOf). */
export const TRANSPORT_OPTION = { transport: { type: 'string' } } as const satisfies OptionTable;
/** --results DIR (resolved by resultsDirOf). */
export const RESULTS_OPTION = { results: { type: 'string' } } as const satisfies OptionTable;
/** --kernel ID, once (checked by checkKernelId). */
export const KERNEL_OPTION = { kernel: { type: 'string' } } as const satisfies OptionTable;
/** --firmware ID, repeatable (checked by checkFirmwareIds). */
export const FIRMWARES_OPTION = { firmware: { type: 'string', multiple: true } } as const satisfies OptionTable;

/**
 * node:util parseArgs for a command, with a malformed command line turned into
 * the one-line error every command gives ("<command>: <what>; run … --help").
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(`${command}: ${error instanceof Error ? error.message : String(error)}`, `run 'memmap-harness ${command} --help'`);
  }
}

/** A command line as most commands read it: `--json [FILE]` taken out first, then the command's own option table. */
export function parseCommandLine<O extends OptionTable, P extends boolean>(command: string, argv: string[], options: O, allowPositionals: P) {
  const { args, json } = takeJsonOption(argv);
  const parsed = parseCommandArgs(command, { args, options, allowPositionals, strict: true });
  return { values: parsed.values, positionals: parsed.positionals, json };
}

/** `{ json }` when --json was given, else nothing: spread into a command's parsed options. */
export function jsonField(json: JsonTarget | undefined): { json?: JsonTarget } {
  return json ? { json } : {};
}

/** --jobs: a positive integer. */
export function parseJobs(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--jobs must be a positive integer, not '${text}'`);
  return n;
}

/** `{ jobs }` when --jobs was given (checked), else nothing. */
export function jobsField(text: string | undefined): { jobs?: number } {
  return text === undefined ? {} : { jobs: parseJobs(text) };
}

/** --results DIR as an absolute path, or a new results/<timestamp>. */
export function resultsDirOf(given: string | undefined): string {
  return resolve(given ?? newResultsDir());
}

/** --transport: unix (the default) or websocket. */
export function transportOf(command: string, given: string | undefined): 'unix' | 'websocket' {
  const transport = given ?? 'unix';
  if (transport !== 'unix' && transport !== 'websocket') throw new UsageError(`${command}: --transport must be unix or websocket, not '${transport}'`);
  return transport;
}

/** One --firmware ID the image builder knows; `where` prefixes the error ("run: "), if given. */
export function checkFirmwareId(where: string, id: string | undefined): void {
  if (id !== undefined && !isFirmwareId(id)) throw new UsageError(`${where}unknown firmware '${id}'`, `use one of ${FIRMWARE_IDS.join(', ')}`);
}

/** Repeated --firmware IDs, every unknown one named in one error; returns them. */
export function checkFirmwareIds(command: string, ids: string[] | undefined): string[] {
  const firmware = ids ?? [];
  const unknown = firmware.filter((f) => !isFirmwareId(f));
  if (unknown.length > 0) throw new UsageError(`${command}: unknown firmware ${unknown.join(', ')}`, `use one of ${FIRMWARE_IDS.join(', ')}`);
  return firmware;
}

/** One --kernel ID the image builder knows; `where` prefixes the error ("run: "), if given. */
export function checkKernelId(where: string, id: string | undefined): void {
  if (id !== undefined && !isKernelId(id)) throw new UsageError(`${where}unknown kernel '${id}'`, `use one of ${KERNEL_IDS.join(', ')}`);
}

/** The QEMU options' own conflicts: --qemu with a build option, --patches with --no-patches. */
export function checkQemuOptions(command: string, values: { qemu?: string; source?: string; patches?: string; 'no-patches'?: boolean }): void {
  if (values.qemu && (values.source || values.patches || values['no-patches'])) {
    throw new UsageError(`${command}: --qemu names a binary; it cannot be combined with --source, --patches or --no-patches`);
  }
  if (values.patches && values['no-patches']) throw new UsageError(`${command}: give --patches or --no-patches, not both`);
}

/** Runs `parse`, turning the HarnessError a bad command-line value gives into a usage error (exit 2). */
export function asUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof HarnessError && !(error instanceof UsageError)) throw new UsageError(error.message, error.hint);
    throw error;
  }
}

/** The parsed options of `run` (also what `start` runs with): the run's options and where its JSON goes. */
export interface RunArgs extends RunOptions {
  json?: JsonTarget;
}

/** Parses `run`'s arguments (start's too); one HarnessError line for anything wrong. */
export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RunArgs {
  const { values, json } = parseCommandLine('run', argv, {
    ...CASE_OPTION,
    set: { type: 'string' },
    ...QEMU_OPTIONS,
    firmware: { type: 'string' },
    ...KERNEL_OPTION,
    ...TRANSPORT_OPTION,
    ...ACCEL_OPTION,
    ...JOBS_OPTION,
    profile: { type: 'string' },
    ...RESULTS_OPTION,
  }, false);
  checkQemuOptions('run', values);
  const transport = transportOf('run', values.transport);
  checkFirmwareId('run: ', values.firmware);
  checkKernelId('run: ', values.kernel);
  // MEMMAP_HARNESS_QEMU stands for --qemu unless the command line chose a QEMU itself.
  const chosen = values.qemu ?? (values.source || values.patches || values['no-patches'] ? undefined : env.MEMMAP_HARNESS_QEMU || undefined);
  const qemu: QemuChoice = chosen
    ? { binary: chosen }
    : { ...(values.source ? { source: values.source } : {}), ...(values['no-patches'] ? { patches: null } : values.patches ? { patches: resolve(values.patches) } : {}) };
  return {
    cases: values.case ?? [],
    set: values.set ?? 'default',
    qemu,
    firmware: values.firmware,
    kernel: values.kernel,
    transport,
    accel: acceleratorChoiceOf(values.accel, env),
    ...jobsField(values.jobs),
    profile: values.profile,
    ...jsonField(json),
    results: resultsDirOf(values.results),
  };
}
