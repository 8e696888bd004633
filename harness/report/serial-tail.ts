import { readFile } from 'node:fs/promises';
import stripAnsi from 'strip-ansi';

/** How many serial lines JUnit's <system-out> carries: the end of the boot, where a hang or panic shows. */
export const SERIAL_TAIL_LINES = 60;

/**
 * The last `lines` lines of a serial log, escape sequences removed (SeaBIOS
 * and OVMF write them), or undefined when the log cannot be read. The XML
 * writer drops what XML cannot carry.
 */
export async function serialTail(path: string, lines = SERIAL_TAIL_LINES): Promise<string | undefined> {
  const text = await readFile(path, 'latin1').catch(() => undefined);
  if (text === undefined) return undefined;
  const all = stripAnsi(text).replace(/\r/g, '').split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines).join('\n');
}
