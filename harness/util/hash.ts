import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Hex SHA-256 of a string or buffer. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of a file's contents, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A stable hash of a JSON-able value: object keys are sorted first. */
export function hashJson(value: unknown): string {
  return sha256(stableStringify(value));
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Undefined when the file at `path` has sha256 `expected`; else what is wrong with it, for one line. */
export async function sha256Mismatch(path: string, expected: string): Promise<string | undefined> {
  const actual = await sha256File(path).catch(() => undefined);
  if (actual === expected) return undefined;
  return actual === undefined ? `${path} in the cache is missing (recorded sha256 ${expected})` : `${path} in the cache has sha256 ${actual}, not the recorded ${expected}`;
}

/** sha256 of each file (paths relative to `dir`), as an entry records what it holds. */
export async function filesSha256(dir: string, files: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of files) out[file] = await sha256File(`${dir}/${file}`);
  return out;
}

/** The first recorded file whose content changed, for one line; undefined when all match or nothing was recorded (an older entry). */
export async function filesMismatch(dir: string, recorded: Readonly<Record<string, string>> | undefined): Promise<string | undefined> {
  for (const [file, expected] of Object.entries(recorded ?? {})) {
    const wrong = await sha256Mismatch(`${dir}/${file}`, expected);
    if (wrong !== undefined) return wrong;
  }
  return undefined;
}
