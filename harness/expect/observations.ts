import type { SerialLog } from '../parse/log.ts';

/** What QMP reported while the guest was paused, in the units the checker compares. */
export interface QmpFacts {
  memdevs: { id: string; size: bigint }[];
  nodes: { node: number; size: bigint; cpus: number[] }[];
}

/** Everything one run observed: the parsed serial log and, when queried, the QMP facts. */
export interface Observations {
  log: SerialLog;
  qmp?: QmpFacts;
}
