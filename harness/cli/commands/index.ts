import type { Command } from '../command.ts';
import { buildCommand } from './build.ts';
import { cellCommand } from './cell.ts';
import { compareCommand } from './compare.ts';
import { matrixCommand } from './matrix.ts';
import { probeCommand } from './probe.ts';
import { imagesCommand } from './images.ts';
import { parseCommand } from './parse.ts';
import { reproduceCommand } from './reproduce.ts';
import { reviewCommand } from './review.ts';
import { runCommand } from './run.ts';
import { startCommand } from './start.ts';

/** Every sub-command, in the order `--help` lists them. Each lives in its own file here. */
export const commands: Command[] = [startCommand, runCommand, matrixCommand, cellCommand, buildCommand, probeCommand, compareCommand, reviewCommand, imagesCommand, parseCommand, reproduceCommand];
