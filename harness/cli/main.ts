import { signalNumber } from '../host/interrupt.ts';
import { envOverrideLines } from '../util/env-overrides.ts';
import { HarnessError, UsageError } from '../util/errors.ts';
import { EXIT, EXIT_STATUS_HELP } from '../util/exit-codes.ts';
import { formatHarnessVersion } from '../util/harness-version.ts';
import { InterruptedError } from '../util/subprocess.ts';
import { SourceSpecError } from '../source/spec.ts';
import { requireHostTools } from '../util/host-tools.ts';
import type { Command } from './command.ts';
import { commands } from './commands/index.ts';
import { wantsHelp } from './command.ts';
import { takeGlobalOptions } from './global-options.ts';
import { JSON_OPTION_HELP } from './json-output.ts';

/** Commands that only read files or ask a binary: they run without the build tools. */
const NEEDS_NO_HOST_TOOLS = new Set(['parse', 'probe']);

/** `memmap-harness <command> [args]`: the command list, the global options, the environment and the exit statuses. */
function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['usage: memmap-harness [--version] [global options] <command> [options]', '', 'commands:', ...lines, '',
    'environment overrides, each beside its flag (a flag wins; --qemu is run\'s and probe\'s, the others are global):',
    ...envOverrideLines(), '',
    JSON_OPTION_HELP, '',
    EXIT_STATUS_HELP, '',
    "Run 'memmap-harness <command> --help' for a command's options."].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    console.log(formatHarnessVersion());
    return EXIT.ok;
  }
  const [name, ...rest] = takeGlobalOptions(argv);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command '${name}'`, "run 'memmap-harness --help' for the list");
  // The dispatcher owns --help for every command.
  if (wantsHelp(rest)) {
    // A command that states its own exit statuses says them in its terms; the others get the common table.
    console.log(/^Exit status/m.test(command.usage) ? command.usage : `${command.usage}\n\n${EXIT_STATUS_HELP}`);
    return EXIT.ok;
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
    // A command line that cannot run is the user's to fix (2), a malformed --source included;
    // anything else kept the harness from a result (3).
    process.exitCode = error instanceof UsageError || error instanceof SourceSpecError ? EXIT.usage : EXIT.infrastructure;
  } else {
    throw error;
  }
}
