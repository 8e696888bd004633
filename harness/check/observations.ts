import type { SerialLog } from '../parse/log.ts';

/** What QMP reported while the guest was paused, in the units the checker compares. */
export interface QmpFacts {
  memdevs: { id: string; size: bigint }[];
  nodes: { node: number; size: bigint; cpus: number[] }[];
  /** Why `nodes` is empty though the machine has nodes: x-query-numa was not asked. */
  nodesUnknown?: string;
  /** `query-memory-devices`: kind, node, address and size of each (undefined where QEMU's entry lacks the field). */
  memoryDevices: { type: string; id?: string; node?: number; addr?: bigint; size?: bigint }[];
  /** `query-memory-size-summary`'s plugged-memory; 0 when QEMU leaves it out. */
  pluggedMemory: bigint;
}

/** Everything one run observed: the parsed serial log and, when queried, the QMP facts. */
export interface Observations {
  log: SerialLog;
  qmp?: QmpFacts;
}
