import type { QmpClient } from '../qmp/client.ts';
import { delay } from '../qmp/deadline.ts';
import { quit } from '../qmp/queries.ts';
import type { PrivateDir } from './private-dir.ts';
import type { QmpTransportKind } from './qmp-endpoint.ts';
import type { QemuProcess, VmExit } from './qemu-process.ts';
import type { LineMatch, LineWaitOptions, SerialConsole } from './serial-console.ts';
import { scaledMs } from '../util/timeouts.ts';

/** Options for Vm.shutdown. */
export interface ShutdownOptions {
  /** How long QEMU gets to exit after `quit` before SIGKILL; default 10 s. */
  graceMs?: number;
}

/**
 * A running QEMU with a negotiated QMP session. It tears itself down (QMP
 * closed, temp directory removed, log flushed) as soon as QEMU exits, however
 * that happens; `shutdown()` or `await using` make it happen.
 */
export class Vm implements AsyncDisposable {
  private teardownDone: Promise<void> | undefined;

  /** @internal Built by launchVm. */
  constructor(
    private readonly process: QemuProcess,
    /** The QMP session (command mode). */
    readonly qmp: QmpClient,
    /** Which transport `qmp` runs over. */
    readonly transport: QmpTransportKind,
    private readonly dir: PrivateDir,
    private readonly unregister: () => void,
  ) {
    // Errors surface from shutdown()/kill(), which await the same teardown.
    void process.exited.then(() => this.teardown()).catch(() => {});
  }

  /** QEMU's process id. */
  get pid(): number | undefined {
    return this.process.pid;
  }

  /** The VM's private 0700 directory (QMP sockets); gone after teardown. */
  get tempDir(): string {
    return this.dir.path;
  }

  /** The serial console: lines, text, waits. */
  get serial(): SerialConsole {
    return this.process.serial;
  }

  /** Resolves when QEMU has exited, with its exit code or signal and its stderr. Never rejects. */
  get exited(): Promise<VmExit> {
    return this.process.exited;
  }

  /** Resolves with the first console line matching `pattern` (see SerialConsole.waitForLine). */
  waitForLine(pattern: RegExp, timeoutMs: number, options?: LineWaitOptions): Promise<LineMatch> {
    return this.serial.waitForLine(pattern, timeoutMs, options);
  }

  /** Resolves when every pattern has matched a console line (see SerialConsole.waitForAll). */
  waitForAll(patterns: readonly RegExp[], timeoutMs: number, options?: LineWaitOptions): Promise<LineMatch[]> {
    return this.serial.waitForAll(patterns, timeoutMs, options);
  }

  /** QMP `quit`, then SIGKILL if QEMU is still there after the grace period; always tears down. */
  async shutdown(options: ShutdownOptions = {}): Promise<VmExit> {
    const graceMs = options.graceMs ?? 10_000;
    try {
      if (!this.process.exitInfo && this.qmp.isConnected) await quit(this.qmp, { timeoutMs: graceMs }).catch(() => {});
      const exit = await Promise.race([this.process.exited, delay(scaledMs(graceMs)).then(() => undefined)]);
      return exit ?? (await this.process.killAndWait());
    } finally {
      await this.teardown();
    }
  }

  /** SIGKILL now; always tears down. */
  async kill(): Promise<VmExit> {
    try {
      return await this.process.killAndWait();
    } finally {
      await this.teardown();
    }
  }

  /** `await using vm = await launchVm(…)` shuts the VM down at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /** Closes QMP, flushes the serial log, removes the temp directory; once. */
  private teardown(): Promise<void> {
    this.teardownDone ??= (async () => {
      try {
        await this.qmp.close();
        await this.process.serial.close();
        await this.dir.remove();
      } finally {
        this.unregister();
      }
    })();
    return this.teardownDone;
  }
}
