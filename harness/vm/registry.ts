/*
 * Every live VM, so that Ctrl-C, SIGTERM, SIGHUP or a plain process exit kills
 * QEMU and removes its temp directory even when the caller never reached its
 * cleanup. The hook is signal-exit's public onExit, the one execa's own
 * `cleanup` uses: it runs once however the process ends and, when nobody else
 * handles the signal, re-raises it so the default action (and the shell's
 * 128+N status) still happens. It is installed only while a VM is alive.
 */
import { onExit } from 'signal-exit';

/** What the registry needs from a VM: synchronous, best-effort teardown. */
export interface Killable {
  /** Sends SIGKILL to QEMU. */
  killNow(): void;
  /** Removes the VM's temp directory synchronously. */
  removeNow(): void;
}

const live = new Set<Killable>();
let removeExitHook: (() => void) | undefined;

/** Tracks a VM until the returned function is called. */
export function registerVm(vm: Killable): () => void {
  removeExitHook ??= onExit(() => killAllVmsNow());
  live.add(vm);
  return () => {
    if (live.delete(vm) && live.size === 0) {
      removeExitHook?.();
      removeExitHook = undefined;
    }
  };
}

/** How many VMs are alive (launched and not yet torn down). */
export function liveVmCount(): number {
  return live.size;
}

/** Kills every live VM and removes their directories, synchronously. */
export function killAllVmsNow(): void {
  for (const vm of [...live]) {
    try {
      vm.killNow();
    } finally {
      vm.removeNow();
    }
  }
}
