import type { Command } from '../command.ts';

/** Every sub-command, in the order `--help` lists them. Each lives in its own file here. */
export const commands: Command[] = [];
