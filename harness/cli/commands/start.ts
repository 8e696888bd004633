import { verdictsToJson } from '../../report/json.ts';
import { executeRun } from '../../run/execute.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { jsonEmitter, takeJsonOption } from '../json-output.ts';
import { parseRunArgs, type RunArgs } from '../options.ts';

const usage = `usage: memmap-harness start [--results DIR] [--json [FILE.json]] [--jobs N]

The main job (\`npm start\`): builds the patched QEMU if it is not cached yet,
fetches the guest images, runs the default case set and prints the verdicts
and the results directory. Same as \`memmap-harness run\` with its defaults.

  --results DIR   where serial logs and reports go (default results/<timestamp>)
  --json [FILE]   the JSON report on stdout (verdicts then go to stderr) or to FILE
  --jobs N        guests at once (default: one per core, as many as free memory holds)`;

/** The only run options start takes (each with a value): where the output goes, and how many guests at once. */
const OUTPUT_OPTIONS = new Set(['--results', '--jobs']);

/** Start's arguments as run's, once they are only where the output goes (--json [FILE], --results DIR) and --jobs N. */
function parseStartArgs(args: string[]): RunArgs {
  const { args: rest } = takeJsonOption(args);
  const other = rest.filter((arg, i) => !OUTPUT_OPTIONS.has(arg) && !OUTPUT_OPTIONS.has(rest[i - 1] ?? '') && !/^--(results|jobs)=/.test(arg));
  if (other.length > 0) throw new UsageError(`start takes only --results, --json and --jobs (got ${other.join(' ')})`, "use 'memmap-harness run' to choose cases or a QEMU");
  return parseRunArgs(args);
}

export const startCommand = defineCommand({
  name: 'start',
  summary: 'build what is missing, run the default cases, print the verdicts',
  usage,
  parse: parseStartArgs,
  async act(options) {
    return executeRun(options, jsonEmitter(options.json, verdictsToJson));
  },
});
