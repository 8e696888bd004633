import { describe, expect, it } from 'vitest';
import { normaliseConsole } from '../../harness/parse/console.ts';
import { flattenIomem, type IomemNode } from '../../harness/parse/iomem.ts';
import { parseGuestSections } from '../../harness/parse/guest-sections.ts';
import { fixture, captures } from './serial-fixtures.ts';

/* Real captures from test/fixtures/serial; derived inputs say what was changed. */
const probeOf = (raw: string) => parseGuestSections(normaliseConsole(raw));

const SEABIOS_61 = 'bookworm-6.1-seabios-bookworm-q35-two-node.log';
const MEMMAP_61 = 'bookworm-6.1-seabios-bookworm-q35-two-node-cmdline-memmap-soft-reserved.log';
const MEMMAP_72 = 'sid-7.2-seabios-bookworm-q35-two-node-cmdline-memmap-soft-reserved.log';
const SECTIONS = ['iomem', 'firmware-memmap', 'node-meminfo', 'dax', 'cmdline'];

const top = (roots: readonly IomemNode[] | undefined, name: string) => (roots ?? []).filter((node) => node.name === name);
const range = (node: { start: bigint; end: bigint } | undefined) => (node ? [node.start, node.end] : undefined);

describe('every capture', () => {
  it.each(captures())('%s: init started, all five sections closed in order, probe done, nothing stray', (name) => {
    const probe = probeOf(fixture(name));
    expect(probe.initStarted).toBe(true);
    expect(probe.done).toBe(true);
    expect(probe.sections.map((section) => [section.name, section.closed])).toEqual(SECTIONS.map((section) => [section, true]));
    expect(probe.stray, `${name}: probe lines that did not parse`).toEqual([]);
    expect(probe.cmdline).toMatch(/(^|\s)console=ttyS0(\s|$)/);
  });
});

describe('iomem', () => {
  const probe = probeOf(fixture(SEABIOS_61));

  it('builds the tree from the indentation, addresses as bigint', () => {
    expect(top(probe.iomem, 'System RAM').map(range)).toEqual([
      [0x1000n, 0x9fbffn],
      [0x100000n, 0x7ffdffffn],
      [0x100000000n, 0x47fffffffn],
    ]);
    // KASLR puts the kernel in one of them, below or above 4 GiB.
    const withKernel = top(probe.iomem, 'System RAM').filter((node) => node.children.length > 0);
    expect(withKernel).toHaveLength(1);
    expect(withKernel[0]?.children.map((child) => child.name)).toEqual(['Kernel code', 'Kernel rodata', 'Kernel data', 'Kernel bss']);
    const mmconfig = probe.iomem?.find((node) => node.name.startsWith('PCI MMCONFIG'));
    expect(mmconfig?.children[0]?.name).toBe('Reserved');
    expect(mmconfig?.children[0]?.children[0]?.name).toBe('pnp 00:04');
    expect(range(top(probe.iomem, 'Reserved').at(-1))).toEqual([0xfd00000000n, 0xffffffffffn]);
    expect(flattenIomem(probe.iomem ?? []).filter(({ depth }) => depth === 2)).toHaveLength(1);
  });

  it('6.1 with memmap=…+0xefffffff: hmem.0 > Soft Reserved > dax0.0', () => {
    const iomem = probeOf(fixture(MEMMAP_61)).iomem ?? [];
    const [hmem] = top(iomem, 'hmem.0');
    expect(range(hmem)).toEqual([0x280000000n, 0x47fffffffn]);
    expect(hmem?.children.map((child) => child.name)).toEqual(['Soft Reserved']);
    expect(hmem?.children[0]?.children.map((child) => [child.name, child.start, child.end])).toEqual([['dax0.0', 0x280000000n, 0x47fffffffn]]);
  });

  it('7.2 with memmap=…+0xefffffff: dax0.0 > System RAM (kmem), no Soft Reserved left', () => {
    const iomem = probeOf(fixture(MEMMAP_72)).iomem ?? [];
    const [dax] = top(iomem, 'dax0.0');
    expect(range(dax)).toEqual([0x280000000n, 0x47fffffffn]);
    expect(dax?.children.map((child) => child.name)).toEqual(['System RAM (kmem)']);
    expect(flattenIomem(iomem).some(({ node }) => node.name === 'Soft Reserved')).toBe(false);
  });
});

describe('firmware-memmap', () => {
  it('rows are /sys/firmware/memmap as printed: inclusive ends, sysfs type names', () => {
    const rows = probeOf(fixture(SEABIOS_61)).firmwareMemmap ?? [];
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({ start: 0x0n, end: 0x9fbffn, type: 'System RAM' });
    expect(rows.at(-1)).toEqual({ start: 0xfd00000000n, end: 0xffffffffffn, type: 'Reserved' });
    expect(rows.filter((row) => row.start >= 1n << 32n).map((row) => row.type)).toEqual(['System RAM', 'Reserved']);
  });

  it('OVMF adds ACPI Tables and ACPI Non-volatile Storage', () => {
    const types = new Set((probeOf(fixture('bookworm-6.1-ovmf-sid-q35-two-node.log')).firmwareMemmap ?? []).map((row) => row.type));
    expect(types).toEqual(new Set(['System RAM', 'Reserved', 'ACPI Tables', 'ACPI Non-volatile Storage']));
  });
});

describe('node-meminfo', () => {
  it('kB fields become bytes, unit-less HugePages fields stay counts', () => {
    const nodes = probeOf(fixture(SEABIOS_61)).nodeMeminfo ?? {};
    expect(Object.keys(nodes)).toEqual(['0', '1']);
    const line = normaliseConsole(fixture(SEABIOS_61)).find((l) => l.text.startsWith('Node 1 MemTotal:'))?.text ?? '';
    const kb = BigInt(/(\d+) kB$/.exec(line)?.[1] ?? 'x');
    expect(nodes[1]?.bytes.MemTotal).toBe(kb * 1024n);
    expect(nodes[1]?.bytes['Active(anon)']).toBeTypeOf('bigint');
    expect(nodes[1]?.counts).toEqual({ HugePages_Total: 0n, HugePages_Free: 0n, HugePages_Surp: 0n });
    expect(nodes[1]?.bytes.HugePages_Total).toBeUndefined();
    // Node 1 is 8 GiB; the kernel keeps a little of it for itself.
    expect((nodes[1]?.bytes.MemTotal ?? 0n) <= 8n << 30n).toBe(true);
    expect((nodes[1]?.bytes.MemTotal ?? 0n) > 7n << 30n).toBe(true);
  });

  it('soft-reserved memory is not node RAM until kmem onlines it (6.1: 0 kB, 7.2: 8 GiB)', () => {
    expect(probeOf(fixture(MEMMAP_61)).nodeMeminfo?.[1]?.bytes.MemTotal).toBe(0n);
    expect(probeOf(fixture(MEMMAP_72)).nodeMeminfo?.[1]?.bytes.MemTotal).toBe(8n << 30n);
  });
});

describe('dax and cmdline', () => {
  it('no dax device: the section is there and empty', () => {
    expect(probeOf(fixture(SEABIOS_61)).dax).toEqual([]);
  });

  it.each([MEMMAP_61, MEMMAP_72])('%s: dax0.0 of 8 GiB on node 1; cmdline carries the memmap=', (name) => {
    const probe = probeOf(fixture(name));
    expect(probe.dax).toEqual([{ name: 'dax0.0', size: 8n << 30n, targetNode: 1, numaNode: 1 }]);
    expect(probe.cmdline).toBe('console=ttyS0 panic=-1 memmap=8G%0x280000000-1+0xefffffff');
  });

  it('`-` (attribute missing) becomes undefined (a real dax line with one attribute replaced)', () => {
    const raw = fixture(MEMMAP_61).replace('dax0.0 size=8589934592 target_node=1 numa_node=1', 'dax0.0 size=8589934592 target_node=- numa_node=1');
    expect(probeOf(raw).dax).toEqual([{ name: 'dax0.0', size: 8n << 30n, targetNode: undefined, numaNode: 1 }]);
  });
});

describe('kernel messages and truncated logs', () => {
  const raw = fixture(SEABIOS_61);
  // A real kernel line of the same log, moved into the middle of the iomem section.
  const kernelLine = raw.split('\r\n').find((line) => line.includes('Run /init as init process')) as string;
  const interleaved = raw.replace('\r\n00100000-7ffdffff : System RAM\r\n', `\r\n${kernelLine}\r\n00100000-7ffdffff : System RAM\r\n`);

  it('a timestamped kernel line inside a section is left out', () => {
    expect(interleaved).not.toBe(raw);
    const probe = probeOf(interleaved);
    expect(probe.iomem).toEqual(probeOf(raw).iomem);
    expect(probe.sections[0]?.lines).not.toContain(kernelLine);
    expect(probe.stray).toEqual([]);
  });

  it('without timestamps the same line cannot be told apart: it is reported as stray, the tree is unchanged', () => {
    const untimed = interleaved.replace(/^\[\s*\d+\.\d+\] /gm, '');
    const probe = probeOf(untimed);
    expect(probe.iomem).toEqual(probeOf(raw).iomem);
    expect(probe.stray).toEqual([{ section: 'iomem', text: 'Run /init as init process' }]);
  });

  it('a log cut inside node-meminfo: not done, that section open, later ones undefined', () => {
    const cut = raw.slice(0, raw.indexOf('node 1\r\n'));
    const probe = probeOf(cut);
    expect(probe.done).toBe(false);
    expect(probe.sections.map((section) => [section.name, section.closed])).toEqual([
      ['iomem', true],
      ['firmware-memmap', true],
      ['node-meminfo', false],
    ]);
    expect(Object.keys(probe.nodeMeminfo ?? {})).toEqual(['0']);
    expect(probe.dax).toBeUndefined();
    expect(probe.cmdline).toBeUndefined();
  });

  it('a log that stops before init: nothing started', () => {
    const probe = probeOf(raw.slice(0, raw.indexOf('==== memmap-harness: init start')));
    expect(probe).toMatchObject({ initStarted: false, done: false, sections: [] });
    expect(probe.iomem).toBeUndefined();
  });
});
