/*
 * JSON that gives back exactly what went in, bigints included: a bigint is
 * written as {"$bigint": "<decimal>"} and read back as a bigint. For data a
 * later process reads again (matrix rows, the case a report.json ran).
 */

/** JSON.stringify replacer: bigints as {"$bigint": "…"}. */
export function exactReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
}

/** JSON.parse reviver: {"$bigint": "…"} back to a bigint. */
export function exactReviver(_key: string, value: unknown): unknown {
  return isBigintBox(value) ? BigInt(value.$bigint) : value;
}

/** A JSON-safe deep copy of `value`, bigints boxed (undefined properties dropped). */
export function toExactJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, exactReplacer)) as unknown;
}

/** `value` (as read from JSON) with every bigint box opened. */
export function fromExactJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), exactReviver) as unknown;
}

function isBigintBox(v: unknown): v is { $bigint: string } {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 1 && typeof (v as { $bigint?: unknown }).$bigint === 'string';
}
