import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { AcpiTableError } from '../../harness/parse/tables/acpi-header.ts';
import { parseHmat, type HmatTable } from '../../harness/parse/tables/hmat.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { iaslDisassemble, iaslValues, readIaslHmat, type IaslHmat } from './iasl.ts';

/*
 * HMATs captured from real guests (test/fixtures/hmat/README.md): the serial
 * log, the HMAT bytes and `iasl -d`'s text of them, committed.
 *   hmat-spm: cases/hmat-spm.json on 10.2.2 + our v5 series (qboot, minimal 6.1).
 *   three-nodes-cache: unpatched 10.2.2, three nodes (node 2 without vCPUs,
 *   initiator 1), read/write latency and access bandwidth for some pairs only,
 *   and a memory side cache: every structure type QEMU writes.
 */
const DIR = join(REPO_ROOT, 'test', 'fixtures', 'hmat');
const RUNS = ['hmat-spm--v5--qboot--minimal-6.1', 'three-nodes-cache--baseline--qboot--minimal-6.1'] as const;
const bytesOf = (stem: string) => readFileSync(join(DIR, `${stem}.HMAT.dat`));
const dslOf = (stem: string) => readFileSync(join(DIR, `${stem}.HMAT.dsl`), 'utf8');
const logOf = (stem: string) => parseSerialLog(readFileSync(join(DIR, `${stem}.serial.log`), 'latin1'));

/** iasl's reading in our decoder's shape, field by field from its text. */
function fromIasl(iasl: IaslHmat): Omit<HmatTable, 'header' | 'unknown'> {
  const one = (s: IaslHmat['structures'][number], label: string) => {
    const values = iaslValues(s, label);
    expect(values, label).toHaveLength(1);
    return values[0] as bigint;
  };
  const out: Omit<HmatTable, 'header' | 'unknown'> = { proximity: [], localities: [], caches: [] };
  for (const s of iasl.structures) {
    if (s.type === 0) {
      const flags = Number(one(s, 'Flags (decoded below)'));
      out.proximity.push({ initiatorValid: (flags & 1) === 1, initiatorPxm: Number(one(s, 'Attached Initiator Proximity Domain')), memoryPxm: Number(one(s, 'Memory Proximity Domain')), flags });
    } else if (s.type === 1) {
      const initiators = iaslValues(s, 'Initiator Proximity Domain List').map(Number);
      const targets = iaslValues(s, 'Target Proximity Domain List').map(Number);
      expect(initiators).toHaveLength(Number(one(s, 'Initiator Proximity Domains #')));
      expect(targets).toHaveLength(Number(one(s, 'Target Proximity Domains #')));
      const flat = iaslValues(s, 'Entry').map(Number);
      expect(flat).toHaveLength(initiators.length * targets.length);
      const flags = Number(one(s, 'Flags (decoded below)'));
      const dataType = Number(one(s, 'Data Type'));
      out.localities.push({
        hierarchy: flags & 0xf,
        flags,
        dataType,
        dataTypeName: (['access-latency', 'read-latency', 'write-latency', 'access-bandwidth', 'read-bandwidth', 'write-bandwidth'] as const)[dataType] as HmatTable['localities'][number]['dataTypeName'] & string,
        entryBaseUnit: one(s, 'Entry Base Unit'),
        initiators,
        targets,
        entries: initiators.map((_, i) => flat.slice(i * targets.length, (i + 1) * targets.length)),
      });
    } else if (s.type === 2) {
      const attributes = Number(one(s, 'Cache Attributes (decoded below)'));
      out.caches.push({ memoryPxm: Number(one(s, 'Memory Proximity Domain')), size: one(s, 'Memory Side Cache Size'), attributes, totalLevels: attributes & 0xf, level: (attributes >> 4) & 0xf, lineSize: attributes >>> 16, smbiosHandles: Number(one(s, 'SMBIOS Handle #')) });
    } else throw new Error(`iasl printed structure type ${s.type}, which this test does not read`);
  }
  return out;
}

describe.each(RUNS)('HMAT %s: our decoder and iasl -d read the same', (stem) => {
  it('the committed iasl text is what iasl -d says of the committed bytes', async () => {
    const fresh = readIaslHmat(await iaslDisassemble(bytesOf(stem), 'hmat'));
    expect(fresh).toEqual(readIaslHmat(dslOf(stem)));
  });

  it('every structure, field by field', () => {
    const iasl = readIaslHmat(dslOf(stem));
    const ours = parseHmat(bytesOf(stem));
    expect(ours.header.signature).toBe(iasl.signature);
    expect(ours.header.revision).toBe(iasl.revision);
    expect(ours.header.length).toBe(iasl.length);
    expect(ours.unknown).toEqual([]);
    expect(iasl.structures.length).toBeGreaterThanOrEqual(4);
    expect(ours.proximity.length + ours.localities.length + ours.caches.length).toBe(iasl.structures.length);
    const { header: _h, unknown: _u, ...rest } = ours;
    expect(rest).toEqual(fromIasl(iasl));
  });

  it('the console carried the same bytes (the probe section decodes to the saved file)', () => {
    const layer = logOf(stem).layers.hmat;
    expect(layer.state).toBe('read');
    if (layer.state === 'read') expect(layer.bytes.equals(bytesOf(stem))).toBe(true);
  });
});

describe('HMAT decoder: bytes that are not a whole HMAT', () => {
  const good = bytesOf(RUNS[0]);
  const withChecksum = (b: Buffer) => {
    b[9] = 0;
    b[9] = (0x100 - b.reduce((s, x) => (s + x) & 0xff, 0)) & 0xff;
    return b;
  };
  it('a structure whose length runs past the table is an AcpiTableError naming its offset', () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0x1000, 40 + 4);
    expect(() => parseHmat(withChecksum(bad))).toThrow(/structure type 0 at offset 40 has length 4096/);
  });
  it('a locality whose counts do not fit its length is refused before anything is allocated', () => {
    const bad = Buffer.from(good);
    const locality = 40 + 40 + 40; // after two proximity structures
    bad.writeUInt32LE(0x7fffffff, locality + 12);
    expect(() => parseHmat(withChecksum(bad))).toThrow(AcpiTableError);
  });
  it('a cut table fails its header check', () => {
    expect(() => parseHmat(good.subarray(0, 100))).toThrow(/the header says 216 bytes, the table has 100/);
  });
});

