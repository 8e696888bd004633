import type { QmpClient } from '../qmp/client.ts';
import { cpusByNode, queryCpusFast, queryMemdev, queryMemoryDevices, queryMemorySizeSummary, queryNuma, type MemoryDeviceInfo } from '../qmp/queries.ts';
import type { QmpFacts } from '../check/observations.ts';

/**
 * The QMP facts a case checks, asked while the guest is still paused:
 * backends and their sizes (`query-memdev`), vCPUs per node
 * (`query-cpus-fast`), node sizes (`x-query-numa`, whole MiB), memory
 * devices (`query-memory-devices`) and plugged memory
 * (`query-memory-size-summary`).
 */
export async function collectQmpFacts(qmp: QmpClient): Promise<QmpFacts> {
  const memdevs = await queryMemdev(qmp);
  const memoryDevices = (await queryMemoryDevices(qmp)).map(deviceFacts);
  const summary = await queryMemorySizeSummary(qmp);
  const cpus = cpusByNode(await queryCpusFast(qmp));
  // QEMU 11.1.3 aborts in x-query-numa (numa_stat_memory_devices: "code should
  // not be reached") when an sp-mem device is plugged (measured): not asked then.
  const numaSkipped = memoryDevices.some((d) => d.type === 'sp-mem') ? 'not asked: x-query-numa aborts QEMU 11.1.3 when an sp-mem device is plugged (hw/core/numa.c numa_stat_memory_devices)' : undefined;
  const numa = numaSkipped ? undefined : await queryNuma(qmp);
  const nodes = (numa?.nodes ?? []).map((n) => ({
    node: n.id,
    size: BigInt(n.sizeMiB) << 20n,
    cpus: [...(cpus.get(n.id) ?? [])].sort((a, b) => a - b),
  }));
  return {
    memdevs: memdevs.map((m) => ({ id: m.id ?? '(unnamed)', size: BigInt(m.size) })),
    nodes,
    ...(numaSkipped ? { nodesUnknown: numaSkipped } : {}),
    memoryDevices,
    pluggedMemory: BigInt(summary['plugged-memory'] ?? 0),
  };
}

/** The fields a case checks of one query-memory-devices entry (sp-mem and pc-dimm both report node, addr, size). */
function deviceFacts(device: MemoryDeviceInfo): QmpFacts['memoryDevices'][number] {
  const { id, node, addr, size } = device.data;
  return {
    type: device.type,
    ...(typeof id === 'string' ? { id } : {}),
    ...(typeof node === 'number' ? { node } : {}),
    ...(typeof addr === 'number' ? { addr: BigInt(addr) } : {}),
    ...(typeof size === 'number' ? { size: BigInt(size) } : {}),
  };
}
