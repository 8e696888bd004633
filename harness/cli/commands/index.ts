import type { Command } from '../command.ts';
import { buildCommand } from './build.ts';
import { probeCommand } from './probe.ts';
import { imagesCommand } from './images.ts';

/** Every sub-command, in the order `--help` lists them. Each lives in its own file here. */
export const commands: Command[] = [buildCommand, probeCommand, imagesCommand];
