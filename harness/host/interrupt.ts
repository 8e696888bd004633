/**
 * While `work` runs, SIGINT and SIGTERM abort the signal it is given (killing its
 * children, so its own cleanup runs) instead of ending the process at once; a
 * second signal ends the process. A caller's signal aborts it too.
 */
export async function withInterruptsAsAbort<T>(outer: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outer?.reason ?? 'aborted');
  let received = 0;
  const onSignal = (name: NodeJS.Signals) => {
    received += 1;
    if (received > 1) process.exit(128 + signalNumber(name));
    controller.abort(name);
  };
  if (outer?.aborted) onOuterAbort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

/** The exit code a shell shows for a process ended by this signal name, minus 128. */
export function signalNumber(name: string): number {
  return name === 'SIGINT' ? 2 : name === 'SIGTERM' ? 15 : 1;
}
