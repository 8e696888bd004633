import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QmpError } from '../../harness/qmp/errors.ts';
import { parseNumaText } from '../../harness/qmp/numa-text.ts';
import { cpusByNode, safeSize, type CpuInfoFast } from '../../harness/qmp/queries.ts';

/* x-query-numa texts and query-cpus-fast replies captured from QEMU 10.2.2 (test/fixtures/qmp/capture.ts). */
const FIXTURES = new URL('../fixtures/qmp/', import.meta.url);
const text = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
/** The `return` of the reply with `id` in a captured session. */
function reply<T>(session: string, id: number): T {
  for (const line of text(session).split('\r\n')) {
    if (line === '') continue;
    const message = JSON.parse(line) as { id?: number; return?: T };
    if (message.id === id) return message.return as T;
  }
  throw new Error(`no reply ${id} in ${session}`);
}
const CPUS_FAST = 6; // capture.ts's SCRIPT index of query-cpus-fast

describe('parseNumaText on real x-query-numa output', () => {
  it('two nodes with two CPUs and 2 GiB each', () => {
    expect(parseNumaText(text('x-query-numa-q35-two-node.txt'))).toEqual({
      nodeCount: 2,
      nodes: [
        { id: 0, cpus: [0, 1], sizeMiB: 2048, pluggedMiB: 0, extra: {} },
        { id: 1, cpus: [2, 3], sizeMiB: 2048, pluggedMiB: 0, extra: {} },
      ],
      unparsed: [],
    });
  });

  it('a memory-only node has an empty cpus line', () => {
    const numa = parseNumaText(text('x-query-numa-q35-cpuless-node.txt'));
    expect(numa.nodes.map((n) => [n.id, n.cpus, n.sizeMiB])).toEqual([
      [0, [0], 1024],
      [1, [1], 1024],
      [2, [], 1024],
    ]);
  });

  it('no NUMA configured: zero nodes', () => {
    expect(parseNumaText(text('x-query-numa-pc-no-numa.txt'))).toEqual({ nodeCount: 0, nodes: [], unparsed: [] });
  });

  it('keeps per-node lines it does not know, and lines of no known shape', () => {
    // Derived: the two-node text plus one line of the kind a patched QEMU might add, and one stray line.
    const numa = parseNumaText(`${text('x-query-numa-q35-two-node.txt')}node 1 memmap-type: spm\nsomething else\n`);
    expect(numa.nodes[1]?.extra).toEqual({ 'memmap-type': 'spm' });
    expect(numa.unparsed).toEqual(['something else']);
  });

  it('rejects text without the count line, or a count that disagrees', () => {
    const real = text('x-query-numa-q35-two-node.txt');
    expect(() => parseNumaText(real.split('\n').slice(1).join('\n'))).toThrow(QmpError);
    expect(() => parseNumaText(real.replace('2 nodes', '3 nodes'))).toThrow(/says 3 nodes but describes 2/);
    expect(() => parseNumaText(real.replace('2048 MB', '2 GB'))).toThrow(/expected '<n> MB'/);
  });
});

describe('cpusByNode on real query-cpus-fast replies', () => {
  it('groups cpu-index by props.node-id', () => {
    expect(cpusByNode(reply<CpuInfoFast[]>('session-q35-two-node.raw', CPUS_FAST))).toEqual(new Map([[0, [0, 1]], [1, [2, 3]]]));
    expect(cpusByNode(reply<CpuInfoFast[]>('session-q35-cpuless-node.raw', CPUS_FAST))).toEqual(new Map([[0, [0]], [1, [1]]]));
  });

  it('CPUs without a node-id (no NUMA) are left out', () => {
    const cpus = reply<CpuInfoFast[]>('session-pc-no-numa.raw', CPUS_FAST);
    expect(cpus).toHaveLength(2);
    expect(cpusByNode(cpus).size).toBe(0);
  });
});

describe('safeSize', () => {
  it('accepts byte counts up to 2^53 - 1 and rejects what JSON.parse may have rounded', () => {
    expect(safeSize(8 * 2 ** 30, 'x')).toBe(8 * 2 ** 30);
    expect(safeSize(Number.MAX_SAFE_INTEGER, 'x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => safeSize(JSON.parse('18446744073709551615') as number, 'size of m0')).toThrow(/size of m0 .* not a byte count below 2\^53/);
    expect(() => safeSize(-1, 'x')).toThrow(QmpError);
    expect(() => safeSize('1', 'x')).toThrow(QmpError);
  });
});
