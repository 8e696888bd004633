import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCase } from '../../harness/case/load.ts';
import { checkExpectations } from '../../harness/check/check.ts';
import { diffRows, formatRowChanges } from '../../harness/core/row-changes.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';

// The checker on real serial logs: an unpatched QEMU 10.2.2 booted with the
// seed's layout (fixtures captured by scripts/capture-fixtures.ts).
const fixture = (name: string) => readFile(join(REPO_ROOT, 'test', 'fixtures', 'serial', name), 'latin1');
const seedCase = (name: string) => loadCase(join(REPO_ROOT, 'cases', `${name}.json`));

describe('checkExpectations on real logs', () => {
  it('passes the seed normal case on the unpatched OVMF boot, every part checked', async () => {
    const spec = await seedCase('seed-normal');
    const log = parseSerialLog(await fixture('bookworm-6.1-ovmf-sid-q35-two-node.log'));
    const findings = checkExpectations({ ...spec.expect, qmp: undefined }, { log });
    expect(findings.map((f) => [f.check, f.ok])).toEqual([
      ['BIOS-e820 rows at or above 4 GiB', true],
      ['SRAT memory affinity rows', true],
      ['/proc/iomem Soft Reserved ranges', true],
      ['/sys/firmware/memmap Soft Reserved ranges', true],
      ['DAX devices', true],
      ['node 0 MemTotal >= 7 GiB and <= 8 GiB', true],
      ['node 1 MemTotal >= 7680 MiB and <= 8 GiB', true],
    ]);
  });

  it('fails the seed spm case on that boot with the changed type, the missing dax device and node 1 RAM', async () => {
    const spec = await seedCase('seed-spm');
    const log = parseSerialLog(await fixture('bookworm-6.1-ovmf-sid-q35-two-node.log'));
    const failed = checkExpectations({ ...spec.expect, qmp: undefined }, { log }).filter((f) => !f.ok);
    const text = failed.flatMap((f) => [f.check, ...f.detail]).join('\n');
    expect(failed.map((f) => f.check)).toEqual([
      'BIOS-e820 rows at or above 4 GiB',
      '/proc/iomem Soft Reserved ranges',
      '/sys/firmware/memmap Soft Reserved ranges',
      'DAX devices',
      'node 1 MemTotal <= 0 B',
    ]);
    expect(text).toContain('~ changed bounds expected [0x0000000100000000-0x000000027fffffff] usable (type 1) (6 GiB), got [0x0000000100000000-0x000000047fffffff] usable (type 1) (14 GiB)');
    expect(text).toContain('- missing        [0x0000000280000000-0x000000047fffffff] soft reserved (type 0xEFFFFFFF) (8 GiB)');
    expect(text).toContain('expected: target node 1, 8 GiB');
  });

  it('needs QMP facts when the case states them', async () => {
    const spec = await seedCase('seed-normal');
    const log = parseSerialLog(await fixture('bookworm-6.1-ovmf-sid-q35-two-node.log'));
    const qmp = checkExpectations({ qmp: spec.expect.qmp }, { log });
    expect(qmp).toEqual([{ aspect: 'qmp', check: 'QMP facts', ok: false, detail: ['QMP was not queried in this run'] }]);
  });
});

describe('diffRows', () => {
  const TYPES: Record<string, number> = { usable: 1, reserved: 2, 'soft reserved': 0xefffffff };
  const row = (start: bigint, end: bigint, kind: string) => ({ start, end, type: TYPES[kind] ?? 0 });

  it('tells missing, extra, changed type and changed bounds apart', () => {
    const expected = [row(0n, 0x9ffffn, 'usable'), row(0x100000n, 0x7fffffffn, 'usable'), row(0x280000000n, 0x47fffffffn, 'soft reserved')];
    const actual = [row(0n, 0x9ffffn, 'reserved'), row(0x100000n, 0x7ffdffffn, 'usable'), row(0xfd00000000n, 0xffffffffffn, 'reserved')];
    expect(formatRowChanges(diffRows(expected, actual))).toEqual([
      '  ~ changed type   [0x0000000000000000-0x000000000009ffff]: expected usable (type 1), got reserved (type 2)',
      '  ~ changed bounds expected [0x0000000000100000-0x000000007fffffff] usable (type 1) (2047 MiB), got [0x0000000000100000-0x000000007ffdffff] usable (type 1) (2046.8 MiB)',
      '  - missing        [0x0000000280000000-0x000000047fffffff] soft reserved (type 0xEFFFFFFF) (8 GiB)',
      '  + extra          [0x000000fd00000000-0x000000ffffffffff] reserved (type 2) (12 GiB)',
    ]);
  });

  it('finds nothing when the rows are the same', () => {
    const rows = [row(1n << 40n, (1n << 41n) - 1n, 'usable')];
    expect(diffRows(rows, [...rows])).toEqual([]);
  });
});
