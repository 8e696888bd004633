import { keepStdoutForJson, type JsonTarget } from './json-output.ts';

/** One `memmap-harness` sub-command: its name, a one-line summary, its --help text and its action. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** A command as its file states it: how its arguments become options, and what it does with them. */
export interface CommandSpec<O extends { json?: JsonTarget }> {
  name: string;
  summary: string;
  usage: string;
  /** The arguments as options (--json among them); a UsageError for anything wrong. */
  parse(args: string[]): O | Promise<O>;
  /** Does the work with stdout already kept for --json; resolves to the exit status. */
  act(options: O, args: string[]): Promise<number>;
}

/**
 * The Command of a spec: every command parses first (bad input stays one
 * line), then, when --json is stdout, sends its human lines to stderr, then acts.
 */
export function defineCommand<O extends { json?: JsonTarget }>(spec: CommandSpec<O>): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    async run(args) {
      const options = await spec.parse(args);
      keepStdoutForJson(options.json);
      return spec.act(options, args);
    },
  };
}

/** True when the arguments ask for help. */
export function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
