import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AcpiTableError } from '../../harness/parse/tables/acpi-header.ts';
import { decodeFwCfgE820 } from '../../harness/parse/tables/fw-cfg-e820.ts';
import { decodeRawSection } from '../../harness/parse/tables/raw-section.ts';
import { parseSlit } from '../../harness/parse/tables/slit.ts';
import { parseSrat, type SratTable } from '../../harness/parse/tables/srat.ts';
import { iaslSrat, type IaslSrat } from './iasl.ts';

/*
 * A hand-built SRAT (ACPI 6.5 5.2.16: header, 12 reserved bytes, then
 * structures), with every memory flag combination QEMU can emit and a few it
 * cannot: iasl -d and our parser must read it the same.
 */
function acpiTable(signature: string, body: Buffer): Buffer {
  const header = Buffer.alloc(36);
  header.write(signature, 0, 'latin1');
  header.writeUInt32LE(36 + body.length, 4);
  header.writeUInt8(1, 8);
  header.write('BOCHS ', 10, 'latin1');
  header.write('BXPC    ', 16, 'latin1');
  header.writeUInt32LE(1, 24);
  header.write('BXPC', 28, 'latin1');
  header.writeUInt32LE(1, 32);
  const table = Buffer.concat([header, body]);
  table.writeUInt8((0x100 - (table.reduce((a, b) => a + b, 0) & 0xff)) & 0xff, 9);
  return table;
}

function memoryAffinity(pxm: number, base: bigint, length: bigint, flags: number): Buffer {
  const s = Buffer.alloc(40);
  s.writeUInt8(1, 0);
  s.writeUInt8(40, 1);
  s.writeUInt32LE(pxm, 2);
  s.writeBigUInt64LE(base, 8);
  s.writeBigUInt64LE(length, 16);
  s.writeUInt32LE(flags, 28);
  return s;
}

function apicAffinity(pxm: number, apicId: number): Buffer {
  const s = Buffer.alloc(16);
  s.writeUInt8(0, 0);
  s.writeUInt8(16, 1);
  s.writeUInt8(pxm & 0xff, 2);
  s.writeUInt8(apicId, 3);
  s.writeUInt32LE(1, 4);
  return s;
}

function x2apicAffinity(pxm: number, apicId: number): Buffer {
  const s = Buffer.alloc(24);
  s.writeUInt8(2, 0);
  s.writeUInt8(24, 1);
  s.writeUInt32LE(pxm, 4);
  s.writeUInt32LE(apicId, 8);
  s.writeUInt32LE(1, 12);
  return s;
}

const HAND_BUILT_MEMORY = [
  { pxm: 0, base: 0n, length: 0xa0000n, flags: 1 },
  { pxm: 0, base: 0x100000n, length: 0x7ff00000n, flags: 1 },
  { pxm: 1, base: 0x280000000n, length: 0x200000000n, flags: 1 },
  { pxm: 0, base: 0n, length: 0n, flags: 0 },
  { pxm: 1, base: 0x480000000n, length: 0x280000000n, flags: 3 },
  { pxm: 7, base: 0x1000000000n, length: 0x40000000n, flags: 5 },
  { pxm: 0x12345678, base: 0xfedcba9876540000n, length: 0x10000n, flags: 7 },
];

function handBuiltSrat(): Buffer {
  const reserved = Buffer.alloc(12);
  reserved.writeUInt32LE(1, 0);
  const cpus = [apicAffinity(0, 0), apicAffinity(1, 1), x2apicAffinity(1, 300)];
  return acpiTable('SRAT', Buffer.concat([reserved, ...cpus, ...HAND_BUILT_MEMORY.map((m) => memoryAffinity(m.pxm, m.base, m.length, m.flags))]));
}

/** Ours and iasl's reading, field by field. */
function expectSameReading(ours: SratTable, iasl: IaslSrat): void {
  expect(iasl.checksumComplaint).toBeUndefined();
  expect(ours.header.signature).toBe(iasl.signature);
  expect(ours.header.length).toBe(iasl.length);
  expect(ours.cpus.length).toBe(iasl.cpuCount);
  expect(ours.memory.map((m) => ({ pxm: m.pxm, base: m.start, length: m.length, flags: m.flags.raw, enabled: m.flags.enabled, hotpluggable: m.flags.hotpluggable, nonVolatile: m.flags.nonVolatile }))).toEqual(iasl.memory);
}

describe('SRAT: our parser and iasl -d read the same', () => {
  it('a hand-built SRAT with every flag combination, APIC and x2APIC entries', async () => {
    const bytes = handBuiltSrat();
    const ours = parseSrat(bytes);
    const iasl = await iaslSrat(bytes);
    expect(iasl.memory).toHaveLength(HAND_BUILT_MEMORY.length);
    expectSameReading(ours, iasl);
    expect(ours.memory[2]).toEqual({ pxm: 1, start: 0x280000000n, length: 0x200000000n, end: 0x47fffffffn, flags: { enabled: true, hotpluggable: false, nonVolatile: false, raw: 1 } });
    expect(ours.memory[3]?.end).toBeUndefined();
    expect(ours.cpus).toEqual([
      { kind: 'apic', pxm: 0, apicId: 0, enabled: true },
      { kind: 'apic', pxm: 1, apicId: 1, enabled: true },
      { kind: 'x2apic', pxm: 1, apicId: 300, enabled: true },
    ]);
  });
});

describe('SRAT: damaged tables are refused with the reason', () => {
  it('a wrong checksum (iasl complains too)', async () => {
    const bytes = handBuiltSrat();
    bytes.writeUInt8((bytes[9] as number) ^ 0x01, 9);
    expect(() => parseSrat(bytes)).toThrow(/checksum does not add up/);
    expect((await iaslSrat(bytes)).checksumComplaint).toMatch(/Incorrect checksum/i);
  });
  it('a length that is not the table\'s', () => {
    expect(() => parseSrat(handBuiltSrat().subarray(0, 100))).toThrow(AcpiTableError);
  });
  it('another table', () => {
    expect(() => parseSrat(acpiTable('SLIT', Buffer.alloc(12)))).toThrow(/signature is 'SLIT'/);
  });
  it('a structure that runs past the end', () => {
    const reserved = Buffer.alloc(12);
    const bad = memoryAffinity(0, 0n, 0x1000n, 1);
    bad.writeUInt8(60, 1);
    expect(() => parseSrat(acpiTable('SRAT', Buffer.concat([reserved, bad])))).toThrow(/past the table's end/);
  });
});

describe('SLIT', () => {
  it('reads the distance matrix', () => {
    const body = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([10, 21, 21, 10])]);
    expect(parseSlit(acpiTable('SLIT', body)).distances).toEqual([[10, 21], [21, 10]]);
  });
  it('refuses a matrix that does not fill the table', () => {
    const body = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([10, 21, 21, 10])]);
    expect(() => parseSlit(acpiTable('SLIT', body))).toThrow(/do not fill/);
  });
});

describe('fw_cfg etc/e820', () => {
  it('refuses bytes that are not whole 20-byte entries', () => {
    expect(() => decodeFwCfgE820(new Uint8Array(30))).toThrow(/not a multiple of 20/);
  });
  it('refuses an entry of length 0', () => {
    expect(() => decodeFwCfgE820(new Uint8Array(20))).toThrow(/length 0/);
  });
});

describe('raw sections on the console', () => {
  const bytes = handBuiltSrat();
  const header = `sha256 ${createHash('sha256').update(bytes).digest('hex')}`;
  const body = bytes.toString('base64').match(/.{1,76}/g) as string[];
  it('decodes the bytes when length and hash agree, with a kernel line in between set aside', () => {
    const lines = [header, ...body.slice(0, 2), 'random: crng init done', ...body.slice(2)];
    const { table, stray } = decodeRawSection(lines, true);
    expect(table).toEqual({ state: 'present', bytes });
    expect(stray).toEqual(['random: crng init done']);
  });
  it('says damaged when a line is lost', () => {
    expect(decodeRawSection([header, ...body.slice(1)], true).table).toMatchObject({ state: 'damaged', why: expect.stringMatching(/bytes decoded with sha256 [0-9a-f]+; the guest read sha256/) });
  });
  it('says damaged when a line is changed', () => {
    const changed = [...body];
    changed[1] = (changed[1] as string).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect(decodeRawSection([header, ...changed], true).table).toMatchObject({ state: 'damaged', why: expect.stringMatching(/the guest read sha256/) });
  });
  it('says damaged when the section never ended', () => {
    expect(decodeRawSection([header, ...body], false).table).toMatchObject({ state: 'damaged', why: expect.stringMatching(/never ended/) });
  });
  it('passes on absent and unavailable as they are', () => {
    expect(decodeRawSection(['absent /sys/firmware/acpi/tables/SLIT'], true).table).toEqual({ state: 'absent', path: '/sys/firmware/acpi/tables/SLIT' });
    expect(decodeRawSection(['unavailable no /sys/firmware/qemu_fw_cfg'], true).table).toEqual({ state: 'unavailable', why: 'no /sys/firmware/qemu_fw_cfg' });
  });
});
