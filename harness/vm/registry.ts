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
  // Our listener suppressed the default action; restore it by re-raising, unless
  // someone else handles the signal. execa's cleanup listens through signal-exit,
  // which re-raises only when it is alone: count its listeners as absent, as
  // signal-exit itself does for its older versions, or neither of us would act.
  if (process.listenerCount(signal) - signalExitListeners() <= 0) process.kill(process.pid, signal);
}

/** How many per-signal listeners signal-exit (v4, used by execa) has installed. */
function signalExitListeners(): number {
  const emitter = (globalThis as Record<symbol, { count?: unknown } | undefined>)[Symbol.for('signal-exit emitter')];
  return typeof emitter?.count === 'number' ? emitter.count : 0;
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
