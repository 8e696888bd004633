import { HarnessError } from '../util/errors.ts';
import type { Command } from './command.ts';
import { commands } from './commands/index.ts';

/** `memmap-harness <command> [args]`: dispatches to one command, prints one error line on failure. */
function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['usage: memmap-harness <command> [options]', '', 'commands:', ...lines, '', "Run 'memmap-harness <command> --help' for a command's options."].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`memmap-harness: unknown command '${name}'; run 'memmap-harness --help' for the list`);
    return 2;
  }
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof HarnessError) {
    console.error(`memmap-harness: ${error.oneLine()}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
