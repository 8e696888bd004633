/*
 * Every live VM, so that Ctrl-C, SIGTERM or a plain process exit kills QEMU and
 * removes its temp directory even when the caller never reached its cleanup.
 * (execa's `cleanup` also kills children on exit; the directories are ours.)
 * Handlers are installed only while a VM is alive: a SIGINT listener replaces
 * Node's default exit, so we must not leave one behind.
 */

/** What the registry needs from a VM: synchronous, best-effort teardown. */
export interface Killable {
  /** Sends SIGKILL to QEMU. */
  killNow(): void;
  /** Removes the VM's temp directory synchronously. */
  removeNow(): void;
}

const live = new Set<Killable>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Tracks a VM until the returned function is called. */
export function registerVm(vm: Killable): () => void {
  if (live.size === 0) install();
  live.add(vm);
  return () => {
    if (live.delete(vm) && live.size === 0) uninstall();
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

function onSignal(signal: NodeJS.Signals): void {
  killAllVmsNow();
  live.clear();
  uninstall();
  // Re-raise so the default action (or whoever else listens) still happens.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function onExit(): void {
  killAllVmsNow();
}

function install(): void {
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  process.removeListener('exit', onExit);
}
