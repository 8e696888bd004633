/** One node's /sys/devices/system/node/nodeN/meminfo. */
export interface NodeMeminfo {
  node: number;
  /** Fields printed in kB, converted to bytes (MemTotal, MemFree, MemUsed…). */
  bytes: Record<string, bigint>;
  /** Fields printed without a unit: page counts (HugePages_Total, HugePages_Free, HugePages_Surp). */
  counts: Record<string, bigint>;
}

export interface NodeMeminfoParse {
  nodes: Record<number, NodeMeminfo>;
  stray: string[];
}

// The guest program's `node N` header, then drivers/base/node.c's `Node %d <Field>: %8lu kB`.
const HEADER = /^node (\d+)$/;
const FIELD = /^Node (\d+) (\w+(?:\(\w+\))?):\s+(\d+)( kB)?$/;

/** Parses the guest program's `node-meminfo` section; each field line names its own node. */
export function parseNodeMeminfo(lines: readonly string[]): NodeMeminfoParse {
  const nodes: Record<number, NodeMeminfo> = {};
  const stray: string[] = [];
  for (const raw of lines) {
    const text = raw.trim();
    const header = HEADER.exec(text);
    if (header) {
      nodeFor(nodes, Number(header[1]));
      continue;
    }
    const field = FIELD.exec(text);
    if (!field) {
      if (text !== '') stray.push(raw);
      continue;
    }
    const [, node = '', name = '', value = '', kb] = field;
    const info = nodeFor(nodes, Number(node));
    if (kb) info.bytes[name] = BigInt(value) * 1024n;
    else info.counts[name] = BigInt(value);
  }
  return { nodes, stray };
}

function nodeFor(nodes: Record<number, NodeMeminfo>, node: number): NodeMeminfo {
  return (nodes[node] ??= { node, bytes: {}, counts: {} });
}
