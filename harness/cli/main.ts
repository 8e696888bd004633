import { signalNumber } from '../qemu-build/interrupt.ts';
import { HarnessError } from '../util/errors.ts';
import { InterruptedError } from '../util/subprocess.ts';
import { requireHostTools } from '../util/host-tools.ts';
import type { Command } from './command.ts';
import { commands } from './commands/index.ts';
import { wantsHelp } from './command.ts';

/** Commands that only read files or ask a binary: they run without the build tools. */
const NEEDS_NO_HOST_TOOLS = new Set(['parse', 'probe']);

/** `memmap-harness <command> [args]`: dispatches to one command, prints one error line on failure. */
function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['usage: memmap-harness <command> [options]', '', 'commands:', ...lines, '',
    'options of every command:',
    '  --refresh   fetch new Debian package lists first (MEMMAP_HARNESS_REFRESH=1)',
    '  --offline   never touch the network; what is not cached is an error (MEMMAP_HARNESS_OFFLINE=1)',
    '', "Run 'memmap-harness <command> --help' for a command's options."].join('\n');
}

/**
 * Options every command takes, turned into the environment the stages read:
 * `--refresh` fetches new Debian package lists, `--offline` never touches the
 * network (what is not cached is an error).
 */
function takeGlobalOptions(argv: string[]): string[] {
  const flags: Record<string, string> = { '--refresh': 'MEMMAP_HARNESS_REFRESH', '--offline': 'MEMMAP_HARNESS_OFFLINE' };
  for (const [flag, variable] of Object.entries(flags)) if (argv.includes(flag)) process.env[variable] = '1';
  return argv.filter((arg) => !Object.hasOwn(flags, arg));
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = takeGlobalOptions(argv);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`memmap-harness: unknown command '${name}'; run 'memmap-harness --help' for the list`);
    return 2;
  }
  // The dispatcher owns --help for every command.
  if (wantsHelp(rest)) {
    console.log(command.usage);
    return 0;
  }
  // Every missing program at once, as one line naming its package, before any work starts.
  if (!NEEDS_NO_HOST_TOOLS.has(command.name)) await requireHostTools();
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof InterruptedError) {
    // Interrupted by a signal: one line, and the shell's exit status for that signal.
    console.error(`memmap-harness: ${error.oneLine()}`);
    process.exitCode = 128 + signalNumber(/SIG[A-Z]+/.exec(error.message)?.[0] ?? 'SIGINT');
  } else if (error instanceof HarnessError) {
    console.error(`memmap-harness: ${error.oneLine()}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
