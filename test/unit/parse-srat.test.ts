import { describe, expect, it } from 'vitest';
import { normaliseConsole } from '../../harness/parse/console.ts';
import { parseSrat } from '../../harness/parse/srat.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { fixture, captures, realLine } from './serial-fixtures.ts';
import { nonEmpty } from './non-empty.ts';

/* Real captures from test/fixtures/serial; derived inputs say what was changed. */
const srat = (text: string) => parseSrat(normaliseConsole(text));
const memory = (text: string) => srat(text).memory.map(({ rawLine: _rawLine, ...row }) => row);

// The seed's SRAT lines, identical in all three of its cases.
const SEED_SRAT = [
  'ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]',
  'ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x7fffffff]',
  'ACPI: SRAT: Node 0 PXM 0 [mem 0x100000000-0x27fffffff]',
  'ACPI: SRAT: Node 1 PXM 1 [mem 0x280000000-0x47fffffff]',
];
const SEED_MEMORY = [
  { node: 0, pxm: 0, start: 0x0n, end: 0x9ffffn, hotplug: false, nonVolatile: false },
  { node: 0, pxm: 0, start: 0x100000n, end: 0x7fffffffn, hotplug: false, nonVolatile: false },
  { node: 0, pxm: 0, start: 0x100000000n, end: 0x27fffffffn, hotplug: false, nonVolatile: false },
  { node: 1, pxm: 1, start: 0x280000000n, end: 0x47fffffffn, hotplug: false, nonVolatile: false },
];
const TWO_NODE_Q35 = nonEmpty(captures().filter((name) => name.includes('-q35-two-node')), 'two-node q35 serial captures');

describe('memory affinity lines', () => {
  it("parses the seed's lines", () => {
    expect(memory(SEED_SRAT.join('\n'))).toEqual(SEED_MEMORY);
  });

  it.each(TWO_NODE_Q35)('%s: prints exactly the seed lines (any kernel, any firmware)', (name) => {
    const parsed = srat(fixture(name));
    expect(parsed.malformed, `${name} has damaged SRAT lines: recapture it`).toEqual([]);
    expect(parsed.memory.map(({ rawLine: _rawLine, ...row }) => row)).toEqual(SEED_MEMORY);
  });

  it('the pc machine: node 1 above the 3 GiB low RAM', () => {
    const rows = memory(fixture('bookworm-6.1-seabios-bookworm-pc-two-node.log'));
    expect(rows.map(({ node, start, end }) => [node, start, end])).toEqual([
      [0, 0x0n, 0x9ffffn],
      [0, 0x100000n, 0xbfffffffn],
      [0, 0x100000000n, 0x23fffffffn],
      [1, 0x240000000n, 0x43fffffffn],
    ]);
  });

  it('a one-node guest (no -numa) prints none', () => {
    expect(srat(fixture('bookworm-6.1-seabios-bookworm-q35-one-node.log'))).toEqual({ memory: [], cpus: [], malformed: [] });
  });

  it('reads the hotplug and non-volatile flags (a real line with the suffixes srat.c appends)', () => {
    const real = realLine(/^\[\s*\d+\.\d+\] ACPI: SRAT: Node 1 PXM 1 \[mem 0x280000000-0x47fffffff\]$/);
    expect(memory(`${real} hotplug`)[0]).toMatchObject({ hotplug: true, nonVolatile: false });
    expect(memory(`${real} non-volatile`)[0]).toMatchObject({ hotplug: false, nonVolatile: true });
    expect(memory(`${real} hotplug non-volatile`)[0]).toMatchObject({ hotplug: true, nonVolatile: true });
  });
});

describe('CPU affinity lines', () => {
  const cpus = (name: string) => srat(fixture(name)).cpus.map(({ pxm, apicId, node }) => [pxm, apicId, node]);

  it('6.1 prints them: cpus 0-3 on node 0, 4-7 on node 1, as -numa cpus= said', () => {
    expect(cpus('bookworm-6.1-seabios-bookworm-q35-two-node.log')).toEqual([
      [0, 0, 0],
      [0, 1, 0],
      [0, 2, 0],
      [0, 3, 0],
      [1, 4, 1],
      [1, 5, 1],
      [1, 6, 1],
      [1, 7, 1],
    ]);
  });

  it('6.12 and 7.2 print them at debug level only, so there are none', () => {
    expect(cpus('trixie-6.12-seabios-bookworm-q35-two-node.log')).toEqual([]);
    expect(cpus('sid-7.2-seabios-bookworm-q35-two-node.log')).toEqual([]);
  });
});

describe('damaged lines are reported', () => {
  it.each([
    ['lost the ] of the range', /^\[\s*\d+\.\d+\] ACPI: SRAT: Node 1 PXM 1 \[mem 0x280000000-0x47fffffff\]$/, ']', ''],
    ['lost a digit of a 32-bit address', /^\[\s*\d+\.\d+\] ACPI: SRAT: Node 0 PXM 0 \[mem 0x00100000-0x7fffffff\]$/, '0x00100000', '0x0100000'],
    ['lost the > of a CPU line', /^\[\s*\d+\.\d+\] SRAT: PXM 1 -> APIC 0x04 -> Node 1$/, '-> Node', '- Node'],
  ])('%s (transformation of a real line)', (_what, pattern, from, to) => {
    const damaged = realLine(pattern).replace(from, to);
    const log = parseSerialLog(damaged);
    expect([...log.srat, ...log.sratCpus]).toEqual([]);
    expect(log.sratMalformed).toHaveLength(1);
    expect(log.warnings).toEqual([`raw line 1: damaged SRAT line: '${damaged.replace(/^\[\s*\d+\.\d+\] /, '')}'`]);
  });

  it.each(captures())('%s: the other lines about SRAT (table list, reservation) are not mistaken', (name) => {
    const lines = normaliseConsole(fixture(name));
    const other = lines.filter((line) => line.text.includes('SRAT') && !/^(ACPI: )?SRAT: (Node|PXM) /.test(line.text));
    expect(srat(other.map((line) => line.text).join('\n'))).toEqual({ memory: [], cpus: [], malformed: [] });
  });
});
