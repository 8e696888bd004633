import { StringDecoder } from 'node:string_decoder';
import { ServerParseError } from './errors.ts';
import { isJsonObject, type JsonObject } from './messages.ts';

/**
 * Reassembles QMP messages from arbitrary chunks. QEMU writes one JSON object
 * per line ("\r\n"-terminated; strings never hold a raw newline), but a
 * transport may cut anywhere: a WebSocket frame carries whatever one chardev
 * write held, so a message can span frames and a frame can hold several
 * messages, and a chunk boundary may split a multi-byte UTF-8 character.
 * Not for `pretty=on` monitors, whose objects span lines.
 */
export class JsonLineDecoder {
  private readonly utf8 = new StringDecoder('utf8');
  private pending = '';

  /** Feeds one chunk; returns the messages it completed, in order. Throws ServerParseError on a bad line. */
  push(chunk: Uint8Array | string): JsonObject[] {
    this.pending += typeof chunk === 'string' ? chunk : this.utf8.write(chunk as Buffer);
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '').map(parseLine);
  }

  /** Text received after the last newline (a message not yet complete). */
  get partial(): string {
    return this.pending;
  }
}

/** Parses one complete line as a JSON object. */
export function parseLine(line: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ServerParseError(`QMP server sent a line that is not JSON (${(error as Error).message}): ${clip(line)}`, line);
  }
  if (!isJsonObject(value)) throw new ServerParseError(`QMP server sent JSON that is not an object: ${clip(line)}`, line);
  return value;
}

function clip(line: string): string {
  const trimmed = line.trim();
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}
