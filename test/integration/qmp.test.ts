import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ExecuteError, QmpTimeoutError } from '../../harness/qmp/errors.ts';
import { cont, cpusByNode, queryCpusFast, queryMemdev, queryMemoryDevices, queryMemorySizeSummary, queryNuma, queryStatus, queryVersion, stop } from '../../harness/qmp/queries.ts';
import { launchVm } from '../../harness/vm/launch.ts';
import { VmStartError } from '../../harness/vm/errors.ts';
import type { QmpTransportKind } from '../../harness/vm/qmp-endpoint.ts';
import type { Vm } from '../../harness/vm/vm.ts';
import { BASE_ARGS, expectNoLeftovers, makeTmpRoot, QEMU, removeTmpRoot, TWO_NODE_ARGS } from '../fixtures/qmp/qemu-env.ts';

/*
 * The QMP client against the real QEMU, over both transports. Every VM is
 * started paused (-S) with no kernel: QMP answers without a guest running.
 */
const GiB = 2 ** 30;
const tmpRoot = makeTmpRoot();
const launch = (qmp: QmpTransportKind, args: readonly string[] = TWO_NODE_ARGS): Promise<Vm> => launchVm({ binary: QEMU, args, qmp, tmpRoot, timeoutMs: 20_000 });

afterEach(async () => expectNoLeftovers(tmpRoot));
afterAll(() => removeTmpRoot(tmpRoot));

describe.each(['unix', 'websocket'] as const)('QMP over %s', (transport) => {
  it('reads the greeting and negotiates capabilities', async () => {
    await using vm = await launch(transport);
    expect(vm.transport).toBe(transport);
    expect(vm.qmp.greeting.QMP.capabilities).toEqual(expect.any(Array));
    expect(vm.qmp.version.qemu).toMatchObject({ major: expect.any(Number), minor: expect.any(Number) });
    // Commands only work after qmp_capabilities: query-version answering proves negotiation.
    expect((await queryVersion(vm.qmp)).qemu).toEqual(vm.qmp.version.qemu);
    expect(await queryStatus(vm.qmp)).toEqual({ status: 'prelaunch', running: false });
  });

  it('an unknown command is an ExecuteError with QEMU error class, and the session goes on', async () => {
    await using vm = await launch(transport);
    const error = await vm.qmp.execute('query-nonexistent').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecuteError);
    expect(error).toMatchObject({ command: 'query-nonexistent', errorClass: 'CommandNotFound', desc: expect.stringContaining('query-nonexistent') });
    const bad = await vm.qmp.execute('query-memdev', { nonsense: true }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ errorClass: 'GenericError' });
    expect((await queryMemdev(vm.qmp)).length).toBe(2);
  });

  it('delivers events: RESUME on cont, STOP on stop, SHUTDOWN on quit', async () => {
    await using vm = await launch(transport);
    const seen: string[] = [];
    vm.qmp.onEvent((event) => seen.push(event.event));
    const resumed = vm.qmp.waitForEvent('RESUME', 10_000);
    await cont(vm.qmp);
    await resumed;
    const stopped = vm.qmp.waitForEvent('STOP', 10_000);
    await stop(vm.qmp);
    await stopped;
    expect(await queryStatus(vm.qmp)).toMatchObject({ status: 'paused', running: false });
    const shutdown = vm.qmp.waitForEvent('SHUTDOWN', 10_000);
    const exit = await vm.shutdown();
    expect((await shutdown).data).toEqual({ guest: false, reason: 'host-qmp-quit' });
    expect(exit).toMatchObject({ exitCode: 0, signal: undefined });
    expect(seen).toEqual(['RESUME', 'STOP', 'SHUTDOWN']);
    expect(vm.qmp.eventLog.map((e) => e.event)).toEqual(seen);
  });

  it('events() iterates events as they come and times out when idle', async () => {
    await using vm = await launch(transport);
    const events = vm.qmp.events(10_000);
    await cont(vm.qmp);
    await stop(vm.qmp);
    const first = await events.next();
    const second = await events.next();
    expect([first.value?.event, second.value?.event]).toEqual(['RESUME', 'STOP']);
    await expect(vm.qmp.events(200).next()).rejects.toBeInstanceOf(QmpTimeoutError);
    await expect(vm.qmp.waitForEvent('RESET', 200)).rejects.toThrow(/event RESET: no answer within 200 ms/);
    await events.return?.();
  });

  it('typed queries on the two-node NUMA configuration', async () => {
    await using vm = await launch(transport);
    const memdevs = await queryMemdev(vm.qmp);
    expect(memdevs.map((m) => [m.id, m.size]).sort()).toEqual([['m0', 2 * GiB], ['m1', 2 * GiB]]);
    expect(memdevs.find((m) => m.id === 'm1')?.share).toBe(true); // memfd backends default to share=on
    expect(await queryMemorySizeSummary(vm.qmp)).toEqual({ 'base-memory': 4 * GiB, 'plugged-memory': 0 });
    expect(await queryMemoryDevices(vm.qmp)).toEqual([]);
    expect(cpusByNode(await queryCpusFast(vm.qmp))).toEqual(new Map([[0, [0, 1]], [1, [2, 3]]]));
    const numa = await queryNuma(vm.qmp);
    expect(numa?.nodes.map((n) => [n.id, n.cpus, n.sizeMiB])).toEqual([[0, [0, 1], 2048], [1, [2, 3], 2048]]);
  });

  it('a refused option is a VmStartError with QEMU own message', async () => {
    const error = await launch(transport, [...BASE_ARGS, '-M', 'q35', '-bogus-option']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VmStartError);
    expect((error as VmStartError).qemuMessage).toMatch(/^qemu-system-x86_64: -bogus-option: invalid option$/);
    expect((error as VmStartError).message).toMatch(/^QEMU exited during startup \(exit code 1\): qemu-system-x86_64: -bogus-option: invalid option$/);
  });

  it('a configuration QEMU rejects after opening QMP is a VmStartError too', async () => {
    // Memory backends are created after the monitor connected: QEMU drops QMP, then exits.
    const args = [...BASE_ARGS, '-M', 'q35', '-m', '4G', '-object', 'memory-backend-ram,id=m0,size=1G', '-numa', 'node,nodeid=0,memdev=m0'];
    const error = await launch(transport, args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VmStartError);
    expect((error as VmStartError).qemuMessage).toMatch(/^qemu-system-x86_64: .*NUMA/);
  });
});
