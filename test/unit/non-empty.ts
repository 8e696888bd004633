/**
 * `items`, or an error when there are none. A table test (`it.each`, `describe.each`)
 * over a list read from a directory or a filter passes having checked nothing when
 * the list comes back empty; this makes that a failure naming what was missing.
 */
export function nonEmpty<T>(items: readonly T[], what: string): T[] {
  if (items.length === 0) throw new Error(`no ${what}: a table test over them would check nothing`);
  return [...items];
}
