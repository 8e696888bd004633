import { chmod, copyFile, cp, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { QmpClient } from '../../harness/qmp/client.ts';
import { delay } from '../../harness/qmp/deadline.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';
import { createPrivateDir } from '../../harness/vm/private-dir.ts';
import { prepareQmpEndpoint } from '../../harness/vm/qmp-endpoint.ts';
import { QemuProcess } from '../../harness/vm/qemu-process.ts';
import { BASE_ARGS, expectNoLeftovers, makeTmpRoot, QEMU, removeTmpRoot } from '../fixtures/qmp/qemu-env.ts';

/*
 * Issue 22: the WebSocket QMP monitor must not be reachable by another local
 * uid. The harness's own endpoint code starts a real QEMU (baseline build);
 * before the harness connects, a WebSocket client running as `nobody`
 * (setpriv) tries the monitor and must get no greeting. Controls: the same
 * probe gets QEMU's greeting once the directory and socket are opened up by
 * the test (so the refusal is the permissions', not a broken probe or a busy
 * monitor), and QEMU holds no listening TCP socket, checked with the same
 * /proc matching that does find its listening UNIX socket.
 */
const CLIENT = fileURLToPath(new URL('../fixtures/access/ws-greeting-client.mjs', import.meta.url));
const WS_PACKAGE = fileURLToPath(new URL('../../node_modules/ws', import.meta.url));
const tmpRoot = makeTmpRoot();
let clientDir: string | undefined;

afterEach(async () => expectNoLeftovers(tmpRoot));
afterAll(async () => {
  removeTmpRoot(tmpRoot);
  if (clientDir !== undefined) await rm(clientDir, { recursive: true, force: true });
});

/**
 * The client and its one dependency (ws) copied where `nobody` can read them:
 * the checkout may sit under a directory only its owner can enter (a 0700
 * home, a private temp dir), and then `nobody` could not even load the client.
 */
async function clientReadableByNobody(): Promise<string> {
  clientDir ??= await mkdtemp(join(tmpdir(), 'memmap-ws-client-'));
  await chmod(clientDir, 0o755);
  await cp(WS_PACKAGE, join(clientDir, 'node_modules', 'ws'), { recursive: true });
  await copyFile(CLIENT, join(clientDir, 'ws-greeting-client.mjs'));
  return join(clientDir, 'ws-greeting-client.mjs');
}

interface ProbeResult {
  uid: number;
  greeting: string | null;
  error: string | null;
}

async function probeAsNobody(socketPath: string): Promise<ProbeResult> {
  const wait = scaledMs(10_000);
  const result = await execa('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, await clientReadableByNobody(), socketPath, String(wait)], { reject: false, timeout: wait + scaledMs(10_000) });
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ProbeResult;
}

/** Inodes of the sockets process `pid` holds open. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  return inodes;
}

/** Listening sockets of `pid`: TCP ones by local address, UNIX ones by path. */
async function listeningSockets(pid: number): Promise<{ tcp: string[]; unix: string[] }> {
  const mine = await socketInodes(pid);
  const tcp: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st … inode (field 9); st 0A is LISTEN.
      if (f[3] === '0A' && f[9] !== undefined && mine.has(f[9])) tcp.push(f[1] as string);
    }
  }
  const unix: string[] = [];
  for (const line of (await readFile('/proc/net/unix', 'utf8')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path; flag 00010000 is __SO_ACCEPTCON (listening).
    if (f[6] !== undefined && mine.has(f[6]) && (parseInt(f[3] as string, 16) & 0x10000) !== 0 && f[7]) unix.push(f[7]);
  }
  return { tcp, unix };
}

async function waitForFile(path: string): Promise<void> {
  const deadline = Date.now() + scaledMs(20_000);
  while (!(await stat(path).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`QEMU did not create ${path}`);
    await delay(20);
  }
}

/** QEMU (the baseline build) with the harness's own WebSocket endpoint in a fresh private directory under the 0755 tmp root. */
async function startMonitored(): Promise<{ socketPath: string; dirPath: string; endpoint: Awaited<ReturnType<typeof prepareQmpEndpoint>>; qemu: QemuProcess; stop: () => Promise<void> }> {
  const dir = await createPrivateDir(tmpRoot);
  const endpoint = await prepareQmpEndpoint('websocket', { dir: dir.path });
  const qemu = await QemuProcess.spawn(QEMU, [...BASE_ARGS, '-M', 'q35', '-m', '256M', '-S', ...endpoint.args], { serialFile: join(dir.path, 'serial.log') });
  const stop = async () => {
    await endpoint.close();
    await qemu.killAndWait().catch(() => {});
    await qemu.serial.close();
    await dir.remove();
  };
  const socketPath = join(dir.path, 'qmp-ws.sock');
  await waitForFile(socketPath).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { socketPath, dirPath: dir.path, endpoint, qemu, stop };
}

describe('the WebSocket QMP monitor and other local users', () => {
  it('a WebSocket client running as nobody gets no greeting, and QEMU listens on no TCP port; the harness then negotiates as always', async () => {
    await chmod(tmpRoot, 0o755); // only the VM's own directory stands between nobody and the socket
    const vm = await startMonitored();
    try {
      expect((await stat(vm.dirPath)).mode & 0o777).toBe(0o700);
      expect(await probeAsNobody(vm.socketPath)).toEqual({ uid: 65534, greeting: null, error: 'EACCES' });

      // QEMU offers the monitor on that UNIX socket and on no TCP port at all.
      const listening = await listeningSockets(vm.qemu.pid as number);
      expect(listening.unix).toContain(vm.socketPath);
      expect(listening.tcp).toEqual([]);

      // The harness's own client, as it always does, negotiates over the same socket.
      const transport = await vm.endpoint.connect(scaledMs(20_000), new AbortController().signal);
      expect(transport.description).toBe(`ws+unix:${vm.socketPath}`);
      const client = await QmpClient.connect(transport, { timeoutMs: scaledMs(20_000) });
      expect(client.greeting.QMP.capabilities).toEqual(expect.any(Array));
      await client.close();
    } finally {
      await vm.stop();
    }
  });

  it('control: with the directory and socket opened up by the test, the same probe as nobody does get the QMP greeting', async () => {
    // A QEMU of its own: a client that leaves without a close handshake stalls QEMU's WebSocket
    // monitor until its I/O thread is woken (see harness/qmp/iothread-waker.ts).
    await chmod(tmpRoot, 0o755);
    const vm = await startMonitored();
    try {
      await chmod(vm.dirPath, 0o711);
      await chmod(vm.socketPath, 0o777);
      const control = await probeAsNobody(vm.socketPath);
      expect(control.uid).toBe(65534);
      expect(control.error).toBeNull();
      expect(JSON.parse(control.greeting as string)).toMatchObject({ QMP: { version: { qemu: expect.any(Object) } } });
    } finally {
      await vm.stop();
    }
  });
});
