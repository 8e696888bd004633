import type { QmpClient } from '../qmp/client.ts';
import { cpusByNode, queryCpusFast, queryMemdev, queryNuma } from '../qmp/queries.ts';
import type { QmpFacts } from '../expect/observations.ts';

/**
 * The QMP facts a case checks, asked while the guest is still paused:
 * backends and their sizes (`query-memdev`), vCPUs per node
 * (`query-cpus-fast`) and node sizes (`x-query-numa`, whole MiB).
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
  return {
    memdevs: memdevs.map((m) => ({ id: m.id ?? '(unnamed)', size: BigInt(m.size) })),
    nodes,
  };
}
