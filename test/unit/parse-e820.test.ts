import { describe, expect, it } from 'vitest';
import { normaliseConsole } from '../../harness/parse/console.ts';
import { E820_TYPE, e820TypeOfLabel, parseE820, type E820Entry } from '../../harness/parse/e820.ts';
import { formatAddress, parseSerialLog } from '../../harness/parse/log.ts';
import { fixture, captures, realLine } from './serial-fixtures.ts';

/* Real captures from test/fixtures/serial; derived inputs say what was changed. */
/** A capture whose e820 and SRAT lines all parsed: the tests below need the whole table. */
const intact = (name: string) => {
  const log = parseSerialLog(fixture(name));
  expect(log.warnings, `${name} has damaged lines: recapture it`).toEqual([]);
  return log;
};

const GiB4 = 1n << 32n;
const rows = (entries: readonly E820Entry[]) => entries.map(({ start, end, type, label }) => ({ start, end, type, label }));
/** A row printed back in the kernel's shape, to compare with the seed's text. */
const asPrinted = (who: string, row: E820Entry): string => `${who}: [mem ${formatAddress(row.start)}-${formatAddress(row.end)}] ${row.label}`;

// The seed (memmap-type v5 results mail), "3. normal", each line re-joined where
// the mail broke it after `] `. Per host-facts an unpatched QEMU 10.2.2 reproduces
// them with q35, 16G, 8G+8G, node 1 cpus 4-7: the two-node fixtures' configuration.
const SEED_NORMAL_ABOVE_4G = [
  'BIOS-e820: [mem 0x0000000100000000-0x000000047fffffff] usable',
  'BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] reserved',
];

// The seed's spm case as the mail shows it (the mail's 3-blank indent removed, its line breaks kept).
const SEED_SPM = `[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000027fffffff] 
usable
[    0.000000] BIOS-e820: [mem 0x0000000280000000-0x000000047fffffff] 
soft reserved
[    0.000000] BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] 
reserved
`;
// The seed's reserved case differs only in that word.
const SEED_RESERVED = SEED_SPM.replace('soft reserved', 'reserved');

describe('6.1 format (usable / reserved): SeaBIOS q35 two-node', () => {
  it('reads the whole firmware map in order, with no gaps and no user map', () => {
    const log = intact('bookworm-6.1-seabios-bookworm-q35-two-node.log');
    expect(rows(log.e820)).toEqual([
      { start: 0x0n, end: 0x9fbffn, type: 1, label: 'usable' },
      { start: 0x9fc00n, end: 0x9ffffn, type: 2, label: 'reserved' },
      { start: 0xf0000n, end: 0xfffffn, type: 2, label: 'reserved' },
      { start: 0x100000n, end: 0x7ffdffffn, type: 1, label: 'usable' },
      { start: 0x7ffe0000n, end: 0x7fffffffn, type: 2, label: 'reserved' },
      { start: 0xb0000000n, end: 0xbfffffffn, type: 2, label: 'reserved' },
      { start: 0xfed1c000n, end: 0xfed1ffffn, type: 2, label: 'reserved' },
      { start: 0xfffc0000n, end: 0xffffffffn, type: 2, label: 'reserved' },
      { start: 0x100000000n, end: 0x47fffffffn, type: 1, label: 'usable' },
      { start: 0xfd00000000n, end: 0xffffffffffn, type: 2, label: 'reserved' },
    ]);
    expect(log.e820Gaps).toEqual([]);
    expect(log.userE820).toBeUndefined();
  });

  it.each([
    'bookworm-6.1-seabios-bookworm-q35-two-node.log',
    'bookworm-6.1-seabios-sid-q35-two-node.log',
    'trixie-6.12-seabios-bookworm-q35-two-node.log',
    'bookworm-6.1-ovmf-sid-q35-two-node.log',
  ])("%s reproduces the seed's `normal` rows above 4 GiB exactly", (name) => {
    const log = intact(name);
    expect(log.e820.filter((row) => row.start >= GiB4).map((row) => asPrinted('BIOS-e820', row))).toEqual(SEED_NORMAL_ABOVE_4G);
  });

  it('keeps the real 0xfd00000000-0xffffffffff row exact (above 2^32; 2^53 is further up, see below)', () => {
    const [row] = parseSerialLog(realLine(/BIOS-e820: \[mem 0x000000fd00000000-0x000000ffffffffff\] reserved$/)).e820;
    expect(row?.end).toBe((1n << 40n) - 1n);
    expect((row?.end ?? 0n) - (row?.start ?? 0n) + 1n).toBe(12n << 30n);
  });
});

describe("the seed's own lines, split as the mail shows them", () => {
  it('spm: 0x280000000-0x47fffffff is soft reserved (0xefffffff)', () => {
    const log = parseSerialLog(SEED_SPM);
    expect(rows(log.e820)).toEqual([
      { start: 0x100000000n, end: 0x27fffffffn, type: E820_TYPE.RAM, label: 'usable' },
      { start: 0x280000000n, end: 0x47fffffffn, type: 0xefffffff, label: 'soft reserved' },
      { start: 0xfd00000000n, end: 0xffffffffffn, type: E820_TYPE.RESERVED, label: 'reserved' },
    ]);
    expect(log.warnings).toEqual([]);
  });

  it('reserved: the same range is type 2', () => {
    expect(parseSerialLog(SEED_RESERVED).e820[1]).toMatchObject({ start: 0x280000000n, end: 0x47fffffffn, type: 2, label: 'reserved' });
  });
});

describe('7.x format (System RAM / device reserved / [gap …])', () => {
  it('maps the new words to the numbers 6.1 gives the same map, and keeps gaps out of the entries', () => {
    const sixOne = intact('bookworm-6.1-seabios-bookworm-q35-two-node-cmdline-memmap-soft-reserved.log');
    const seven = intact('sid-7.2-seabios-bookworm-q35-two-node-cmdline-memmap-soft-reserved.log');
    const numeric = (entries: readonly E820Entry[]) => entries.map(({ start, end, type }) => ({ start, end, type }));
    expect(numeric(seven.e820)).toEqual(numeric(sixOne.e820));
    expect(new Set(seven.e820.map((row) => row.label))).toEqual(new Set(['System RAM', 'device reserved']));
    expect(seven.e820Gaps.map(({ start, end }) => [start, end])).toEqual([
      [0xa0000n, 0xeffffn],
      [0x80000000n, 0xafffffffn],
      [0xc0000000n, 0xfed1bfffn],
      [0xfed20000n, 0xfffbffffn],
      [0x480000000n, 0xfcffffffffn],
    ]);
  });

  it.each(['sid-7.2-seabios-bookworm-q35-two-node.log', 'sid-7.2-ovmf-sid-q35-two-node.log'])(
    '%s: every printed gap is exactly the hole between two neighbouring entries',
    (name) => {
      const log = intact(name);
      const holes = log.e820.slice(1).flatMap((row, i) => {
        const previous = log.e820[i] as E820Entry;
        return row.start > previous.end + 1n ? [[previous.end + 1n, row.start - 1n]] : [];
      });
      expect(log.e820Gaps.length).toBeGreaterThan(0);
      expect(log.e820Gaps.map(({ start, end }) => [start, end])).toEqual(holes);
    },
  );
});

describe('the user-defined map (memmap= on the command line, unpatched QEMU)', () => {
  it.each([
    ['bookworm-6.1-seabios-bookworm-q35-two-node-cmdline-memmap-soft-reserved.log', 'usable', 'reserved'],
    ['sid-7.2-seabios-bookworm-q35-two-node-cmdline-memmap-soft-reserved.log', 'System RAM', 'device reserved'],
  ])('%s: the firmware map still says RAM, the user map says soft reserved', (name, ram, reserved) => {
    const log = intact(name);
    expect(log.e820.find((row) => row.start === 0x100000000n)).toMatchObject({ end: 0x47fffffffn, type: 1, label: ram });
    expect(rows(log.userE820 ?? []).filter((row) => row.start >= GiB4)).toEqual([
      { start: 0x100000000n, end: 0x27fffffffn, type: 1, label: ram },
      { start: 0x280000000n, end: 0x47fffffffn, type: E820_TYPE.SOFT_RESERVED, label: 'soft reserved' },
      { start: 0xfd00000000n, end: 0xffffffffffn, type: 2, label: reserved },
    ]);
  });
});

describe('damaged rows are reported, never guessed at', () => {
  // Captures drop characters now and then. Each case is a real row given the
  // damage an earlier capture of the fixtures showed (2026-11-25, 13:40-13:46).
  it.each([
    ['lost the m of [mem (6.1 OVMF)', /^\[ {4}0\.000000\] BIOS-e820: \[mem 0x000000007ffe0000-0x000000007fffffff\] reserved$/, '[mem', '[em', 'damaged e820 row'],
    ['lost S- of BIOS-e820 (7.2)', /^\[ {4}0\.000000\] BIOS-e820: \[gap 0x0000000480000000-0x000000fcffffffff\]$/, 'BIOS-e820', 'BIOe820', "unknown e820 table prefix 'BIOe820'"],
    ['lost the blanks and d of device reserved (7.2)', /^\[ {4}0\.000000\] BIOS-e820: \[mem 0x00000000000f0000-0x00000000000fffff\] {2}device reserved$/, ']  d', ']', "unknown e820 type text 'evice reserved'"],
    ['lost two hex digits (7.2)', /^\[ {4}0\.000000\] BIOS-e820: \[mem 0x000000000009fc00-0x000000000009ffff\] {2}device reserved$/, '0x000000000009fc00', '0x0000000009fc00', 'damaged e820 row'],
    ['timestamp lost its ]', /^\[ {4}0\.000000\] BIOS-e820: \[mem 0x00000000b0000000-0x00000000bfffffff\] reserved$/, '0.000000]', '0.000000', 'damaged e820 row'],
  ])('%s', (_what, pattern, from, to, reason) => {
    const row = realLine(pattern);
    const header = realLine(/^\[ {4}0\.000000\] BIOS-provided physical RAM map:$/);
    const next = realLine(/^\[ {4}0\.000000\] NX \(Execute Disable\) protection: active$/);
    const log = parseSerialLog([header, row.replace(from, to), next, ''].join('\r\n'));
    expect(log.e820Malformed.map((bad) => [bad.rawLine, bad.reason])).toEqual([[2, reason]]);
    expect([...log.e820, ...log.e820Gaps]).toEqual([]);
    expect(log.warnings).toHaveLength(1);
  });

  it('dropping any one character of a real row yields the same row or a report, never another row', () => {
    const header = realLine(/^\[ {4}0\.000000\] BIOS-provided physical RAM map:$/);
    const next = realLine(/^\[ {4}0\.000000\] NX \(Execute Disable\) protection: active$/);
    const real = [
      realLine(/^\[ {4}0\.000000\] BIOS-e820: \[mem 0x0000000100000000-0x000000047fffffff\] usable$/),
      realLine(/^\[ {4}0\.000000\] BIOS-e820: \[mem 0x0000000100000000-0x000000047fffffff\] {2}System RAM$/),
      realLine(/^\[ {4}0\.000000\] BIOS-e820: \[gap 0x0000000480000000-0x000000fcffffffff\]$/),
      realLine(/^\[ {4}0\.000000\] user: \[mem 0x0000000280000000-0x000000047fffffff\] soft reserved$/),
    ];
    const parse = (row: string) => parseE820(normaliseConsole([header, row, next, ''].join('\r\n')));
    const ranges = (parsed: ReturnType<typeof parse>) =>
      [...parsed.tables.values()].flatMap((table) => [...table.entries, ...table.gaps]).map(({ start, end }) => `${start}-${end}`);
    for (const row of real) {
      const original = parse(row);
      expect(ranges(original)).toHaveLength(1);
      for (let i = 0; i < row.length; i++) {
        const damaged = parse(row.slice(0, i) + row.slice(i + 1));
        if (damaged.malformed.length === 0) expect(ranges(damaged)).toEqual(ranges(original));
        else expect(ranges(damaged)).toEqual([]);
      }
    }
  });

  it.each(captures())('%s: other kernel lines with [mem …] ranges are not taken for rows', (name) => {
    // Zone ranges, node ranges, RAMDISK, the PCI gap, e820 resources, NUMA lines are all in the captures.
    const parsed = parseE820(normaliseConsole(fixture(name)));
    const tableLines = normaliseConsole(fixture(name)).filter((line) => /^(BIOS-e820|user): \[/.test(line.text)).length;
    const parsedRows = [...parsed.tables.values()].reduce((n, table) => n + table.entries.length + table.gaps.length, 0);
    // Every malformed line is a damaged table line, not some other kernel line.
    expect(parsed.malformed.every((bad) => /e820|user|\[(?:e?m|gap)/i.test(bad.text))).toBe(true);
    expect(parsedRows).toBeLessThanOrEqual(tableLines);
  });
});

describe('type words', () => {
  // Every string e820_print_type() prints: 6.1 (usable … type %u) and 7.x (System RAM … persistent RAM (type %u)).
  it.each([
    ['usable', 1],
    ['System RAM', 1],
    ['reserved', 2],
    ['device reserved', 2],
    ['ACPI data', 3],
    ['ACPI NVS', 4],
    ['unusable', 5],
    ['persistent (type 7)', 7],
    ['persistent (type 12)', 12],
    ['persistent RAM (type 12)', 12],
    ['soft reserved', 0xefffffff],
    ['type 20', 20],
    ['type 4026531839', 0xefffffff],
  ])('%s -> %i', (label, type) => {
    expect(e820TypeOfLabel(label)).toBe(type);
  });

  it('text no released kernel prints is unknown (e.g. `kernel usable RAM` from an unmerged e820 series)', () => {
    expect(e820TypeOfLabel('kernel usable RAM')).toBeUndefined();
    expect(e820TypeOfLabel('Usable')).toBeUndefined();
  });
});

describe('64-bit addresses stay exact', () => {
  // A real reserved row with its addresses replaced: near 2^64 and just above 2^53,
  // where a JS number can no longer hold them.
  const real = realLine(/^\[ {4}0\.000000\] BIOS-e820: \[mem 0x000000fd00000000-0x000000ffffffffff\] reserved$/);

  it.each([
    ['0xfffffffffffff000', '0xffffffffffffffff', (1n << 64n) - 4096n, (1n << 64n) - 1n],
    ['0x0020000000000001', '0x0020000000000fff', (1n << 53n) + 1n, (1n << 53n) + 0xfffn],
  ])('%s-%s', (startHex, endHex, start, end) => {
    const line = real.replace('0x000000fd00000000', startHex).replace('0x000000ffffffffff', endHex);
    const [row] = parseSerialLog(line).e820;
    expect(row).toMatchObject({ start, end, type: 2 });
    expect(formatAddress(row?.start ?? -1n)).toBe(startHex);
    expect(formatAddress(row?.end ?? -1n)).toBe(endHex);
    expect(BigInt(Number(end))).not.toBe(end);
  });
});
