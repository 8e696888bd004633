import { HarnessError } from '../../util/errors.ts';
import type { Command } from '../command.ts';
import { executeRun, parseRunArgs } from './run.ts';

const usage = `usage: memmap-harness start

The main job (\`npm start\`): builds the patched QEMU if it is not cached yet,
fetches the guest images, runs the default case set and prints the verdicts
and the results directory. Same as \`memmap-harness run\` with its defaults.`;

export const startCommand: Command = {
  name: 'start',
  summary: 'build what is missing, run the default cases, print the verdicts',
  usage,
  async run(args) {
    if (args.length > 0) throw new HarnessError(`start takes no arguments (got ${args.join(' ')})`, "use 'memmap-harness run' to choose cases or a QEMU");
    return executeRun(parseRunArgs([]));
  },
};
