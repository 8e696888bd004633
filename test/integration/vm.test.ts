import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HarnessError } from '../../harness/util/errors.ts';
import { ConsoleTimeoutError, VmExitedError } from '../../harness/vm/errors.ts';
import { launchVm, type LaunchOptions } from '../../harness/vm/launch.ts';
import { withVm } from '../../harness/vm/with-vm.ts';
import { SerialConsole } from '../../harness/vm/serial-console.ts';
import { BASE_ARGS, childProcesses, expectNoLeftovers, makeTmpRoot, processAlive, QEMU, removeTmpRoot } from '../fixtures/qmp/qemu-env.ts';
import { serialProbeImage } from '../fixtures/qmp/serial-probe.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * The VM runner against the real QEMU. The guest is a hand-written Multiboot
 * image that prints to COM1 (test/fixtures/qmp/serial-probe.ts), so console
 * waits, the raw log and QEMU's own exit are real without a kernel.
 */
const tmpRoot = makeTmpRoot();
const MESSAGE = '\u001b[2J\u001b[1;32mprobe: hello\u001b[0m from the guest\r\nprobe: second line\r\nprobe: done';

/** Launch options for a pc guest running the probe; `reset` makes QEMU exit after printing. */
function probe(name: string, options: { reset?: boolean; message?: string } = {}): LaunchOptions {
  const image = join(tmpRoot, `${name}.bin`);
  writeFileSync(image, serialProbeImage(options.message ?? MESSAGE, options));
  return {
    binary: QEMU,
    args: [...BASE_ARGS, '-M', 'pc', '-m', '64M', '-kernel', image, ...(options.reset ? ['-no-reboot'] : [])],
    tmpRoot,
    timeoutMs: 20_000,
  };
}

afterEach(async () => {
  await expectNoLeftovers(tmpRoot);
});
afterAll(() => removeTmpRoot(tmpRoot));

// The probe images live in tmpRoot too; the leak check wants it empty, so each test removes its own.
const cleanImage = (name: string): void => removeTmpRoot(join(tmpRoot, `${name}.bin`));

describe('launchVm on a real QEMU', () => {
  it('starts paused; after cont the console lines arrive, stripped, and the raw log keeps the bytes', async () => {
    const log = join(tmpRoot, 'serial.log');
    {
      await using vm = await launchVm({ ...probe('paused'), logPath: log });
      expect((await vm.qmp.execute<{ status: string }>('query-status')).status).toBe('prelaunch');
      expect(vm.serial.lines).toEqual([]);
      await vm.qmp.execute('cont');
      const [second, hello] = await vm.waitForAll([/second line/, /^probe: hello from the guest$/], 30_000);
      // "probe: done" has no newline after it: not a line while QEMU runs (it counts once QEMU exits).
      await expect(vm.waitForLine(/^probe: done$/, 300)).rejects.toBeInstanceOf(ConsoleTimeoutError);
      expect([hello?.index, second?.index]).toEqual([0, 1]);
      expect(vm.serial.text).toBe('probe: hello from the guest\nprobe: second line\nprobe: done');
      const again = await vm.waitForLine(/^probe:/, 1000, { after: hello?.index ?? 0 });
      expect(again.line).toBe('probe: second line');
    }
    expect(readFileSync(log, 'latin1')).toBe(MESSAGE);
    removeTmpRoot(log);
    cleanImage('paused');
  }, scaledMs(90_000));

  it('a log left at logPath by an earlier run is never read as this run\'s console', async () => {
    const log = join(tmpRoot, 'stale.log');
    writeFileSync(log, 'stale: an earlier run\r\n'.repeat(4096) + 'probe: done\r\n');
    {
      await using vm = await launchVm({ ...probe('stale', { reset: true }), logPath: log });
      await vm.qmp.execute('cont');
      await vm.waitForLine(/^probe: second line$/, 30_000);
      expect(vm.serial.lines.some((line) => line.startsWith('stale:'))).toBe(false);
      expect(vm.serial.lines[0]).toBe('probe: hello from the guest');
    }
    expect(readFileSync(log, 'latin1')).toBe(MESSAGE);
    removeTmpRoot(log);
    cleanImage('stale');
  }, scaledMs(90_000));

  it('a console wait fails with VmExitedError when QEMU exits first, and exited reports the exit', async () => {
    const vm = await launchVm(probe('exits', { reset: true }));
    const shutdown = vm.qmp.waitForEvent('SHUTDOWN', 30_000);
    const never = vm.waitForLine(/never printed/, 60_000);
    await vm.qmp.execute('cont');
    await expect(never).rejects.toBeInstanceOf(VmExitedError);
    await expect(never).rejects.toThrow(/QEMU exited \(exit code 0\) before the console printed \/never printed\//);
    expect((await shutdown).data).toEqual({ guest: true, reason: 'guest-reset' });
    expect(await vm.exited).toMatchObject({ exitCode: 0, signal: undefined });
    // The unfinished last line counts once QEMU's stdout has closed.
    expect(vm.serial.lines.at(-1)).toBe('probe: done');
    // Torn down on exit, without shutdown(): the temp directory is already gone.
    await expect.poll(() => existsSync(vm.tempDir)).toBe(false);
    expect(await vm.shutdown()).toMatchObject({ exitCode: 0 });
    cleanImage('exits');
  }, scaledMs(90_000));

  it('a console wait times out with ConsoleTimeoutError carrying the console tail', async () => {
    await using vm = await launchVm(probe('halts'));
    await vm.qmp.execute('cont');
    await vm.waitForLine(/second line/, 30_000);
    const error = await vm.waitForLine(/never printed/, 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsoleTimeoutError);
    expect((error as ConsoleTimeoutError).consoleTail).toEqual(['probe: hello from the guest', 'probe: second line']);
    cleanImage('halts');
  }, scaledMs(90_000));

  it('shutdown() quits over QMP; kill() uses SIGKILL; both clean up', async () => {
    const a = await launchVm(probe('quit'));
    const dirA = a.tempDir;
    expect(existsSync(dirA)).toBe(true);
    expect(await a.shutdown()).toMatchObject({ exitCode: 0, signal: undefined });
    expect(existsSync(dirA)).toBe(false);
    const b = await launchVm({ ...probe('quit'), qmp: 'websocket' });
    const pid = b.pid ?? -1;
    expect(await b.kill()).toMatchObject({ exitCode: undefined, signal: 'SIGKILL' });
    expect(processAlive(pid)).toBe(false);
    expect(existsSync(b.tempDir)).toBe(false);
    cleanImage('quit');
  }, scaledMs(90_000));

  it('withVm shuts the VM down when the callback throws', async () => {
    let dir = '';
    await expect(
      withVm(probe('throws'), async (vm) => {
        dir = vm.tempDir;
        throw new Error('test body failed');
      }),
    ).rejects.toThrow('test body failed');
    expect(dir).not.toBe('');
    expect(existsSync(dir)).toBe(false);
    cleanImage('throws');
  }, scaledMs(90_000));

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to the harness process kills QEMU and removes the temp directory', async (signal) => {
    // A separate Node process launches a VM and reports it; we signal that process.
    const script = join(tmpRoot, 'signalled.mts'); // .mts: top-level await outside any package.json
    const runner = new URL('../../harness/vm/launch.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      [
        `import { launchVm } from ${JSON.stringify(runner)};`,
        `const vm = await launchVm({ binary: ${JSON.stringify(QEMU)}, args: ${JSON.stringify([...BASE_ARGS, '-M', 'pc'])}, tmpRoot: ${JSON.stringify(tmpRoot)} });`,
        'console.log(JSON.stringify({ pid: vm.pid, dir: vm.tempDir }));',
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const child = execa('node', ['--import', 'tsx', script], { cwd: new URL('../..', import.meta.url).pathname, reject: false, buffer: false, stdout: 'pipe', stderr: 'pipe' });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      const fail = (): void => {
        child.kill('SIGKILL');
        reject(new Error(`child did not report its VM; its stderr: ${stderr}`));
      };
      void child.then(fail);
      setTimeout(fail, 30_000).unref();
    });
    const { pid, dir } = JSON.parse(line) as { pid: number; dir: string };
    expect(processAlive(pid)).toBe(true);
    expect(existsSync(dir)).toBe(true);
    child.kill(signal);
    const result = await child;
    expect(result.signal).toBe(signal); // re-raised after cleanup: the default action still happens
    await expect.poll(() => processAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    removeTmpRoot(script);
  }, scaledMs(90_000));

  it('bad input is one clear error line, before anything starts', async () => {
    await expect(launchVm({ binary: '/nonexistent/qemu', args: [], tmpRoot })).rejects.toThrow(/^QEMU binary '\/nonexistent\/qemu' does not exist or is not executable$/);
    await expect(launchVm({ binary: QEMU, args: ['-serial', 'stdio'], tmpRoot })).rejects.toBeInstanceOf(HarnessError);
    await expect(launchVm({ binary: QEMU, args: ['-M', 'pc'], tmpRoot, timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a positive number/);
    expect(childProcesses()).toEqual([]);
  });
});

describe('SerialConsole line assembly (no QEMU)', () => {
  async function consoleOf(chunks: string[]): Promise<SerialConsole> {
    const serial = await SerialConsole.create(undefined, () => []);
    for (const chunk of chunks) serial.push(Buffer.from(chunk, 'latin1'));
    return serial;
  }

  it('a CRLF cut between chunks ends one line, not two', async () => {
    expect((await consoleOf(['one\r', '\ntwo\r', '\n'])).lines).toEqual(['one', 'two']);
  });

  it('a lone CR ends a line as a terminal would show it', async () => {
    expect((await consoleOf(['Booting...\rdone\r\n'])).lines).toEqual(['Booting...', 'done']);
  });

  it('an escape sequence cut between chunks is still stripped', async () => {
    expect((await consoleOf(['\u001b[1;3', '2mgreen\u001b[0m\r\n'])).lines).toEqual(['green']);
  });

  it('a wait resolves on a line that arrives later, and with `after` ignores earlier ones', async () => {
    const serial = await consoleOf(['SRAT: node 0\r\n']);
    const first = await serial.waitForLine(/SRAT/, 100);
    const later = serial.waitForLine(/SRAT/, 1000, { after: first.index });
    serial.push(Buffer.from('SRAT: node 1\r\n'));
    expect((await later).line).toBe('SRAT: node 1');
  });
});
