const U64_MAX = (1n << 64n) - 1n;

/** `0x` + 16 lowercase hex digits, as the kernel prints `%#018Lx`; only for 0..2^64-1. */
export function formatAddress(value: bigint): string {
  if (value < 0n || value > U64_MAX) throw new RangeError(`not a 64-bit address: ${value}`);
  return `0x${value.toString(16).padStart(16, '0')}`;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON-safe copy of parser output: bigints become `0x…` strings (16 digits),
 * Maps become objects, byte arrays base64 strings, undefined properties are dropped.
 */
export function toJsonValue(value: unknown): JsonValue {
  if (typeof value === 'bigint') return formatAddress(value);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(toJsonValue);
  // Raw table bytes (the guest program's fw_cfg and ACPI sections): base64, as the guest printed them.
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Map) return toJsonValue(Object.fromEntries(value));
  if (typeof value === 'object') return objectToJson(value as Record<string, unknown>);
  return null;
}

function objectToJson(value: Record<string, unknown>): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined && typeof item !== 'function') out[key] = toJsonValue(item);
  }
  return out;
}

/** JSON text of parser output, bigints as `0x…` strings. */
export function toJson(value: unknown, space: number | string = 2): string {
  return JSON.stringify(toJsonValue(value), null, space);
}
