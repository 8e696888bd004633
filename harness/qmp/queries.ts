import type { QmpClient } from './client.ts';
import { ConnectionLostError, ExecuteError, QmpError } from './errors.ts';
import type { JsonObject, QemuVersionInfo } from './messages.ts';
import { parseNumaText, type NumaText } from './numa-text.ts';

/*
 * Typed wrappers for the commands the harness uses. Field names are QEMU's
 * wire names (see qapi/machine.json), so the types can be checked against the
 * schema. Sizes arrive as JSON numbers: JSON.parse rounds anything above
 * 2^53, so every size is checked with Number.isSafeInteger and a larger one
 * is an error, not a silently wrong number. Guest RAM sizes here are far below
 * 2^53 bytes (8 PiB).
 */

/** A memory backend (`query-memdev`'s Memdev). */
export interface Memdev {
  id?: string;
  size: number;
  merge: boolean;
  dump: boolean;
  prealloc: boolean;
  share: boolean;
  reserve?: boolean;
  'host-nodes': number[];
  policy: 'default' | 'preferred' | 'bind' | 'interleave';
}

/** A DIMM/NVDIMM's details in `query-memory-devices` (PCDIMMDeviceInfo). */
export interface PcdimmDeviceInfo {
  id?: string;
  addr: number;
  size: number;
  slot: number;
  node: number;
  memdev: string;
  hotplugged: boolean;
  hotpluggable: boolean;
}

/** One `query-memory-devices` entry. `type` is open: newer QEMUs add kinds (11.1's sp-mem). */
export interface MemoryDeviceInfo {
  type: string;
  data: JsonObject;
}

/** `query-memory-size-summary`'s MemoryInfo, in bytes. */
export interface MemorySizeSummary {
  'base-memory': number;
  'plugged-memory'?: number;
}

/** Where a CPU sits in the topology (CpuInstanceProperties). */
export interface CpuInstanceProperties {
  'node-id'?: number;
  'drawer-id'?: number;
  'book-id'?: number;
  'socket-id'?: number;
  'die-id'?: number;
  'cluster-id'?: number;
  'module-id'?: number;
  'core-id'?: number;
  'thread-id'?: number;
}

/** One `query-cpus-fast` entry (CpuInfoFast). */
export interface CpuInfoFast {
  'cpu-index': number;
  /** Since QEMU 10.1. */
  'qom-type'?: string;
  'qom-path': string;
  'thread-id': number;
  props?: CpuInstanceProperties;
  target: string;
}

/** `query-status`'s StatusInfo. */
export interface StatusInfo {
  running: boolean;
  status: string;
}

/** All memory backends with their sizes. */
export async function queryMemdev(qmp: QmpClient): Promise<Memdev[]> {
  const memdevs = await qmp.execute<Memdev[]>('query-memdev');
  for (const memdev of memdevs) safeSize(memdev.size, `query-memdev size of '${memdev.id ?? '?'}'`);
  return memdevs;
}

/** Plugged memory devices (DIMMs, virtio-mem, …); empty for plain `-numa node,memdev=` RAM. */
export async function queryMemoryDevices(qmp: QmpClient): Promise<MemoryDeviceInfo[]> {
  const devices = await qmp.execute<MemoryDeviceInfo[]>('query-memory-devices');
  for (const device of devices) {
    if (typeof device.data.size === 'number') safeSize(device.data.size, `query-memory-devices size of a ${device.type}`);
  }
  return devices;
}

/** Boot memory and hot-plugged memory, in bytes. */
export async function queryMemorySizeSummary(qmp: QmpClient): Promise<MemorySizeSummary> {
  const summary = await qmp.execute<MemorySizeSummary>('query-memory-size-summary');
  safeSize(summary['base-memory'], 'query-memory-size-summary base-memory');
  if (summary['plugged-memory'] !== undefined) safeSize(summary['plugged-memory'], 'query-memory-size-summary plugged-memory');
  return summary;
}

/** Every vCPU with its topology properties. */
export function queryCpusFast(qmp: QmpClient): Promise<CpuInfoFast[]> {
  return qmp.execute<CpuInfoFast[]>('query-cpus-fast');
}

/** cpu-index values per NUMA node id, each list ascending; CPUs without a node-id are left out. */
export function cpusByNode(cpus: readonly CpuInfoFast[]): Map<number, number[]> {
  const byNode = new Map<number, number[]>();
  for (const cpu of cpus) {
    const node = cpu.props?.['node-id'];
    if (node === undefined) continue;
    byNode.set(node, [...(byNode.get(node) ?? []), cpu['cpu-index']].sort((a, b) => a - b));
  }
  return new Map([...byNode].sort(([a], [b]) => a - b));
}

/**
 * The NUMA topology from `x-query-numa` (unstable, QMP since 6.2, returns
 * HumanReadableText), parsed; undefined when this QEMU lacks the command.
 */
export async function queryNuma(qmp: QmpClient): Promise<NumaText | undefined> {
  try {
    const { 'human-readable-text': text } = await qmp.execute<{ 'human-readable-text': string }>('x-query-numa');
    return parseNumaText(text);
  } catch (error) {
    if (error instanceof ExecuteError && error.errorClass === 'CommandNotFound') return undefined;
    throw error;
  }
}

/** QEMU's version. */
export function queryVersion(qmp: QmpClient): Promise<QemuVersionInfo & JsonObject> {
  return qmp.execute<QemuVersionInfo & JsonObject>('query-version');
}

/** Whether the guest runs, and the run state (`prelaunch` under -S, `running`, `paused`, `shutdown`…). */
export function queryStatus(qmp: QmpClient): Promise<StatusInfo> {
  return qmp.execute<StatusInfo>('query-status');
}

/** Starts (or resumes) the guest. */
export async function cont(qmp: QmpClient): Promise<void> {
  await qmp.execute('cont');
}

/** Pauses the guest. */
export async function stop(qmp: QmpClient): Promise<void> {
  await qmp.execute('stop');
}

/** Asks QEMU to exit. A connection dropped before the reply counts as done: QEMU was quitting. */
export async function quit(qmp: QmpClient, options: { timeoutMs?: number } = {}): Promise<void> {
  try {
    await qmp.execute('quit', undefined, options);
  } catch (error) {
    if (!(error instanceof ConnectionLostError)) throw error;
  }
}

/** Checks a size from QMP: a non-negative safe integer, else QmpError. */
export function safeSize(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new QmpError(`${what} is ${String(value)}, not a byte count below 2^53 (JSON numbers above that lose precision)`);
  }
  return value;
}
