import { readdirSync, readFileSync } from 'node:fs';
import { nonEmpty } from './non-empty.ts';

/*
 * The real serial captures in test/fixtures/serial (its README says how each
 * was made), shared by the parser tests. Where a test needs a shape no capture
 * has, it derives it from a real capture by one stated transformation.
 */
const DIR = new URL('../fixtures/serial/', import.meta.url);

/** A capture's raw text. */
export const fixture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');

/** Every capture's file name, sorted; none at all is an error (nonEmpty). */
export const captures = (): string[] => nonEmpty(readdirSync(DIR).filter((name) => name.endsWith('.log')).sort(), `serial captures (*.log) in ${DIR.pathname}`);

/** A real line matching `pattern`, from the first capture that has it intact. */
export const realLine = (pattern: RegExp): string => {
  for (const name of captures()) {
    const hit = fixture(name).split('\r\n').find((line) => pattern.test(line));
    if (hit !== undefined) return hit;
  }
  throw new Error(`no capture has a line matching ${pattern}`);
};
