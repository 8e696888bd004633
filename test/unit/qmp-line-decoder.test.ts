import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServerParseError } from '../../harness/qmp/errors.ts';
import { JsonLineDecoder } from '../../harness/qmp/line-decoder.ts';
import type { JsonObject } from '../../harness/qmp/messages.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * Inputs are real bytes QEMU 10.2.2 sent (test/fixtures/qmp, see capture.ts):
 * whole UNIX-socket sessions and the WebSocket frames of one session.
 */
const FIXTURES = new URL('../fixtures/qmp/', import.meta.url);
const raw = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const SESSIONS = ['session-q35-two-node.raw', 'session-q35-cpuless-node.raw', 'session-pc-no-numa.raw'];

function decodeChunks(chunks: readonly Uint8Array[]): JsonObject[] {
  const decoder = new JsonLineDecoder();
  const messages = chunks.flatMap((chunk) => decoder.push(chunk));
  expect(decoder.partial).toBe('');
  return messages;
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  return [...points, bytes.length].map((end, i) => bytes.subarray(i === 0 ? 0 : points[i - 1], end));
}

/** A session's message kinds and ids: what must survive reassembly, whatever the run. */
const shape = (messages: JsonObject[]): string[] =>
  messages.map((m) => ('QMP' in m ? 'greeting' : 'event' in m ? `event ${String(m.event)}` : `${'error' in m ? 'error' : 'return'} ${String(m.id)}`));

describe('JsonLineDecoder on real QEMU output', () => {
  it.each(SESSIONS)('%s: one message per CRLF line, greeting first', (name) => {
    const bytes = raw(name);
    const messages = decodeChunks([bytes]);
    expect(messages).toHaveLength(bytes.toString().split('\r\n').filter((l) => l !== '').length);
    expect(shape(messages)[0]).toBe('greeting');
    expect(shape(messages)).toContain('error 8');
  });

  it.each(SESSIONS)('%s: every two-chunk split gives the same messages', (name) => {
    const bytes = raw(name);
    const whole = decodeChunks([bytes]);
    for (let at = 0; at <= bytes.length; at++) {
      expect(decodeChunks([bytes.subarray(0, at), bytes.subarray(at)])).toEqual(whole);
    }
  });

  it('any chunking, down to single bytes, gives the same messages', { timeout: scaledMs(60_000) }, () => {
    const bytes = raw('session-q35-two-node.raw');
    const whole = decodeChunks([bytes]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 200 }), (offsets) => {
        expect(decodeChunks(cut(bytes, offsets))).toEqual(whole);
      }),
    );
    expect(decodeChunks([...bytes].map((b) => Uint8Array.of(b)))).toEqual(whole);
  });

  it('WebSocket frames reassemble into the same session as the UNIX socket', () => {
    const frames = (JSON.parse(raw('websocket-frames-q35-two-node.json').toString()) as string[]).map((f) => Buffer.from(f));
    const overWebSocket = decodeChunks(frames);
    const overUnix = decodeChunks([raw('session-q35-two-node.raw')]);
    expect(shape(overWebSocket)).toEqual(shape(overUnix));
    // Same answers, apart from host thread ids and event timestamps, which differ per run.
    const stable = (messages: JsonObject[]): string => JSON.stringify(messages).replace(/"thread-id": ?\d+|"seconds":\d+,"microseconds":\d+/g, '');
    expect(stable(overWebSocket)).toEqual(stable(overUnix));
  });

  it('a multi-byte UTF-8 character cut between chunks survives', () => {
    // Synthetic: QEMU's replies here are ASCII, but desc strings may carry user text.
    const line = Buffer.from('{"return": {"desc": "größe ≥ 2 GiB"}}\r\n');
    for (let at = 1; at < line.length; at++) {
      expect(decodeChunks([line.subarray(0, at), line.subarray(at)])).toEqual([{ return: { desc: 'größe ≥ 2 GiB' } }]);
    }
  });

  it('keeps an unfinished line until its newline arrives', () => {
    const decoder = new JsonLineDecoder();
    expect(decoder.push('{"return": {}, ')).toEqual([]);
    expect(decoder.partial).toBe('{"return": {}, ');
    expect(decoder.push('"id": "h1"}\r\n\r\n')).toEqual([{ return: {}, id: 'h1' }]);
  });

  it('rejects a line that is not JSON, or JSON that is not an object', () => {
    expect(() => new JsonLineDecoder().push('{"return": \n')).toThrow(ServerParseError);
    expect(() => new JsonLineDecoder().push('[1, 2]\n')).toThrow(/not an object/);
  });
});
