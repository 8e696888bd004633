import { QmpError } from './errors.ts';

/** One NUMA node as `x-query-numa` describes it. */
export interface NumaNodeText {
  /** Node id. */
  id: number;
  /** cpu-index values of the node's CPUs. */
  cpus: number[];
  /** Memory in MiB (QEMU prints bytes >> 20, so sizes are truncated to whole MiB). */
  sizeMiB: number;
  /** Hot-plugged memory in MiB. */
  pluggedMiB: number;
  /** Any other `node N key: value` line (a patched QEMU may add some), by key. */
  extra: Record<string, string>;
}

/** `x-query-numa`'s human-readable text, parsed. */
export interface NumaText {
  /** The count from the first line (`2 nodes`). */
  nodeCount: number;
  /** Nodes in id order. */
  nodes: NumaNodeText[];
  /** Lines that fit no known shape, kept for reports rather than dropped. */
  unparsed: string[];
}

const COUNT = /^(\d+) nodes$/;
const NODE_LINE = /^node (\d+) ([\w -]+?):(?: (.*))?$/;
const MIB = /^(\d+) MB$/;

/**
 * Parses the text of `x-query-numa` (QEMU's HMP `info numa`), as printed by
 * hw/core/machine-qmp-cmds.c since 6.2:
 *
 *     2 nodes
 *     node 0 cpus: 0 1
 *     node 0 size: 2048 MB
 *     node 0 plugged: 0 MB
 *
 * Throws QmpError when the count line is missing or disagrees with the nodes.
 */
export function parseNumaText(text: string): NumaText {
  const lines = text.split('\n').map((line) => line.trimEnd()).filter((line) => line !== '');
  const count = COUNT.exec(lines[0] ?? '');
  if (!count?.[1]) throw new QmpError(`x-query-numa: expected 'N nodes' first, got '${lines[0] ?? ''}'`);
  const nodes = new Map<number, NumaNodeText>();
  const unparsed: string[] = [];
  for (const line of lines.slice(1)) {
    const match = NODE_LINE.exec(line);
    if (!match?.[1] || !match[2]) {
      unparsed.push(line);
      continue;
    }
    const id = Number(match[1]);
    const node = nodes.get(id) ?? { id, cpus: [], sizeMiB: 0, pluggedMiB: 0, extra: {} };
    nodes.set(id, node);
    applyField(node, match[2], match[3] ?? '', line);
  }
  const nodeCount = Number(count[1]);
  if (nodes.size !== nodeCount) throw new QmpError(`x-query-numa: says ${nodeCount} nodes but describes ${nodes.size}`);
  return { nodeCount, nodes: [...nodes.values()].sort((a, b) => a.id - b.id), unparsed };
}

function applyField(node: NumaNodeText, key: string, value: string, line: string): void {
  if (key === 'cpus') node.cpus = value === '' ? [] : value.split(/\s+/).map((cpu) => toInt(cpu, line));
  else if (key === 'size') node.sizeMiB = mib(value, line);
  else if (key === 'plugged') node.pluggedMiB = mib(value, line);
  else node.extra[key] = value;
}

function mib(value: string, line: string): number {
  const match = MIB.exec(value);
  if (!match?.[1]) throw new QmpError(`x-query-numa: expected '<n> MB' in '${line}'`);
  return toInt(match[1], line);
}

function toInt(text: string, line: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new QmpError(`x-query-numa: '${text}' is not a whole number in '${line}'`);
  return value;
}
