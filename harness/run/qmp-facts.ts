import type { QmpClient } from '../qmp/client.ts';
import { cpusByNode, queryCpusFast, queryMemdev, queryMemoryDevices, queryMemorySizeSummary, queryNuma, type MemoryDeviceInfo } from '../qmp/queries.ts';
import type { QmpFacts } from '../expect/observations.ts';

/**
 * The QMP facts a case checks, asked while the guest is still paused:
 * backends and their sizes (`query-memdev`), vCPUs per node
 * (`query-cpus-fast`), node sizes (`x-query-numa`, whole MiB), memory
 * devices (`query-memory-devices`) and plugged memory
 * (`query-memory-size-summary`).
 */
export async function collectQmpFacts(qmp: QmpClient): Promise<QmpFacts> {
  const memdevs = await queryMemdev(qmp);
  const cpus = cpusByNode(await queryCpusFast(qmp));
  const numa = await queryNuma(qmp);
  const nodes = (numa?.nodes ?? []).map((n) => ({
    node: n.id,
    size: BigInt(n.sizeMiB) << 20n,
    cpus: [...(cpus.get(n.id) ?? [])].sort((a, b) => a - b),
  }));
  const summary = await queryMemorySizeSummary(qmp);
  return {
    memdevs: memdevs.map((m) => ({ id: m.id ?? '(unnamed)', size: BigInt(m.size) })),
    nodes,
    memoryDevices: (await queryMemoryDevices(qmp)).map(deviceFacts),
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
