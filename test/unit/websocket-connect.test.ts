import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError } from '../../harness/qmp/errors.ts';
import { connectWebSocket } from '../../harness/qmp/websocket-transport.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * The WebSocket transport now connects over a UNIX socket with its own
 * createConnection, which ws's handshakeTimeout does not cover: a peer that
 * accepts and never answers the upgrade must still end in a ConnectError
 * within the timeout, not hang (what QEMU's monitor does while its I/O
 * thread sleeps).
 */
let dir: string | undefined;
let server: Server | undefined;
const held: Socket[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('connectWebSocket over a UNIX socket', { timeout: scaledMs(60_000) }, () => {
  it('a peer that never answers the handshake is a ConnectError within the timeout', async () => {
    dir = await mkdtemp(join(tmpdir(), 'memmap-ws-test-'));
    const path = join(dir, 'silent.sock');
    server = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => server?.listen(path, resolve));
    const started = Date.now();
    const error = await connectWebSocket({ socketPath: path, timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toMatch(new RegExp(`^cannot connect to QMP at ws\\+unix:${path} within 1500 ms: no WebSocket handshake from ${path}`));
    expect(Date.now() - started).toBeLessThan(scaledMs(10_000));
    expect(held.length).toBeGreaterThan(0); // it did reach the peer
  });

  it('no socket there (QEMU not listening yet) is retried until the timeout', async () => {
    dir = await mkdtemp(join(tmpdir(), 'memmap-ws-test-'));
    const error = await connectWebSocket({ socketPath: join(dir, 'absent.sock'), timeoutMs: 500 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/within 500 ms: connect ENOENT/);
  });
});
