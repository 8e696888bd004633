import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIsolation } from '../../harness/qemu-build/no-network.ts';
import { run } from '../../harness/util/subprocess.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * Issue 22: a series' configure and ninja run without network by default.
 * The same wrapper the build uses runs a real process that tries to reach a
 * TCP listener this test holds on the host's loopback; with --allow-network
 * (the control) the same process reaches it.
 */
let server: Server;
let port = 0;
const CONNECT = `const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
s.on('connect', () => { console.log('connected'); s.end(); });
s.on('error', (e) => console.log('error ' + e.code));`;

beforeAll(async () => {
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function reach(allowNetwork: boolean): Promise<{ out: string; note: string }> {
  const { isolate, note } = await buildIsolation(allowNetwork);
  const result = await run(...isolate(process.execPath, ['-e', CONNECT, String(port)]), { timeoutMs: 20_000 }); // run() scales it
  expect(result.exitCode, result.all).toBe(0);
  return { out: result.stdout.trim(), note };
}

describe('build steps and the network', { timeout: scaledMs(60_000) }, () => {
  it('by default a build step cannot reach even a listener on the host loopback, and has no interface but lo', async () => {
    const { out, note } = await reach(false);
    expect(note).toMatch(/^building without network \(unshare -r?n\)$/);
    expect(out).toMatch(/^error (ENETUNREACH|ECONNREFUSED|EHOSTUNREACH)$/);
    const { isolate } = await buildIsolation(false);
    const links = await run(...isolate('cat', ['/proc/net/dev']), { timeoutMs: 20_000 });
    const interfaces = links.stdout.split('\n').slice(2).map((l) => l.split(':')[0]?.trim()).filter(Boolean);
    expect(interfaces).toEqual(['lo']);
  });

  it('with --allow-network (the control) the same step reaches it', async () => {
    const { out, note } = await reach(true);
    expect(note).toMatch(/network allowed/);
    expect(out).toBe('connected');
    const { isolate } = await buildIsolation(true);
    const links = await run(...isolate('cat', ['/proc/net/dev']), { timeoutMs: 20_000 });
    // The host has more than lo (this machine: eth0), so "only lo" above is the namespace's doing.
    expect(links.stdout.split('\n').slice(2).map((l) => l.split(':')[0]?.trim()).filter(Boolean).length).toBeGreaterThan(1);
  });

  it('the variable MEMMAP_HARNESS_ALLOW_NETWORK=1 is what --allow-network sets', async () => {
    const { takeGlobalOptions } = await import('../../harness/cli/global-options.ts');
    const env: NodeJS.ProcessEnv = {};
    expect(takeGlobalOptions(['--allow-network', 'build'], env)).toEqual(['build']);
    expect(env.MEMMAP_HARNESS_ALLOW_NETWORK).toBe('1');
  });
});
