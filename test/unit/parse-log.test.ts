import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { E820_TYPE } from '../../harness/parse/e820.ts';
import { formatAddress, parseSerialLog, toJson, toJsonValue } from '../../harness/parse/log.ts';
import { nonEmpty } from './non-empty.ts';

/* Real captures from test/fixtures/serial, listed by its index.json. */
const DIR = new URL('../fixtures/serial/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, DIR), 'utf8');
interface IndexEntry {
  file: string;
  kernel: { release: string };
  topology: string;
  append: string[];
}
const index = nonEmpty(JSON.parse(fixture('index.json')) as IndexEntry[], 'captures listed in test/fixtures/serial/index.json');
const files = index.map((entry) => entry.file);

// e820_type_to_string() (arch/x86/kernel/e820.c): the names /sys/firmware/memmap shows.
const SYSFS_TYPE: Record<number, string> = {
  [E820_TYPE.RAM]: 'System RAM',
  [E820_TYPE.RESERVED]: 'Reserved',
  [E820_TYPE.ACPI]: 'ACPI Tables',
  [E820_TYPE.NVS]: 'ACPI Non-volatile Storage',
  [E820_TYPE.UNUSABLE]: 'Unusable memory',
  [E820_TYPE.SOFT_RESERVED]: 'Soft Reserved',
};

describe.each(index)('$file', (entry) => {
  const log = parseSerialLog(fixture(entry.file));

  it('has no damaged e820 or SRAT line (a capture that lost characters must be recaptured)', () => {
    expect(log.warnings).toEqual([]);
  });

  it('names the kernel release index.json records', () => {
    expect(log.kernelVersion).toBe(entry.kernel.release);
  });

  it('has SRAT memory lines exactly when the guest has NUMA nodes', () => {
    expect(log.srat.length > 0).toBe(entry.topology !== 'one-node');
    expect(new Set(log.srat.map((row) => row.node)).size).toBe(entry.topology === 'two-node' ? 2 : 0);
  });

  it('prints a user map exactly when memmap= was on the command line', () => {
    expect(log.userE820 !== undefined).toBe(entry.append.some((arg) => arg.startsWith('memmap=')));
  });

  // /sys/firmware/memmap is the firmware's table again, through sysfs: an
  // independent check of every BIOS-e820 row and of the label -> type mapping.
  it('matches /sys/firmware/memmap row for row, or says which e820 line it lost', () => {
    const fromSysfs = (log.guest.firmwareMemmap ?? []).map((row) => `${formatAddress(row.start)}-${formatAddress(row.end)} ${row.type}`);
    const fromE820 = log.e820.map((row) => `${formatAddress(row.start)}-${formatAddress(row.end)} ${SYSFS_TYPE[row.type]}`);
    if (log.e820Malformed.length === 0) expect(fromE820).toEqual(fromSysfs);
    else expect(fromSysfs.length - fromE820.length).toBe(log.e820Malformed.length);
  });
});

describe('whole-log checks', () => {
  it('the serial log of two boots in one file is flagged', () => {
    const raw = fixture(files[0] as string);
    const warnings = parseSerialLog(raw + raw).warnings;
    expect(warnings).toContain("2 'Linux version' banners: the log holds more than one boot");
    expect(warnings).toContain('BIOS-e820: rows not in ascending order: table printed twice, or two boots');
  });

  it('an empty log parses to nothing, without throwing', () => {
    const log = parseSerialLog('');
    expect(log).toMatchObject({ e820: [], e820Gaps: [], srat: [], sratCpus: [], lines: [], warnings: [] });
    expect(log.kernelVersion).toBeUndefined();
    expect(log.guest).toMatchObject({ initStarted: false, done: false });
  });
});

describe('formatAddress', () => {
  it.each([
    [0n, '0x0000000000000000'],
    [0x280000000n, '0x0000000280000000'],
    [0xffffffffffn, '0x000000ffffffffff'],
    [(1n << 64n) - 1n, '0xffffffffffffffff'],
  ])('%s -> %s', (value, text) => {
    expect(formatAddress(value)).toBe(text);
    expect(BigInt(text)).toBe(value);
  });

  it('refuses what is not a 64-bit address', () => {
    expect(() => formatAddress(-1n)).toThrow(RangeError);
    expect(() => formatAddress(1n << 64n)).toThrow(RangeError);
  });
});

describe('toJson', () => {
  it('renders every bigint as a 0x… string, Maps as objects, drops undefined', () => {
    const value = { start: 0x280000000n, nested: [{ end: (1n << 64n) - 1n }], map: new Map([['a', 1n]]), gone: undefined, n: 3 };
    expect(toJsonValue(value)).toEqual({
      start: '0x0000000280000000',
      nested: [{ end: '0xffffffffffffffff' }],
      map: { a: '0x0000000000000001' },
      n: 3,
    });
    expect(JSON.parse(toJson(value))).toEqual(toJsonValue(value));
  });

  it('serialises a whole parsed log (JSON.stringify alone throws on bigint)', () => {
    const log = parseSerialLog(fixture(files[0] as string));
    expect(() => JSON.stringify(log)).toThrow(TypeError);
    const json = JSON.parse(toJson(log)) as { e820: { start: string }[] };
    expect(json.e820.at(-1)?.start).toBe('0x000000fd00000000');
  });
});
