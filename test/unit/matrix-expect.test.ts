import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectationsFor, loadCases } from '../../harness/case/load.ts';
import type { CaseSpec, Expectations } from '../../harness/case/types.ts';
import { checkExpectations } from '../../harness/expect/check.ts';
import { expectationFor } from '../../harness/matrix/expect.ts';
import { softReservedFindings } from '../../harness/matrix/extra-checks.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { parseCellName } from '../../harness/matrix/name.ts';
import { parseSerialLog, type SerialLog } from '../../harness/parse/log.ts';

/*
 * What a cell expects of a case, derived from the case's own rows and the
 * matrix's facts, checked against real serial logs: the evidence of
 * cases/matrix/evidence/ (patched runs) and test/fixtures/serial/ (unpatched).
 */
const def = await loadMatrix();
const cases = new Map((await loadCases(new URL('../../cases/', import.meta.url).pathname, ['seed-spm', 'seed-reserved', 'seed-normal', 'explicit-normal'])).map((c) => [c.name, c]));
const spec = (name: string): CaseSpec => cases.get(name) as CaseSpec;
const derive = (cell: string, name: string) => expectationFor(def, parseCellName(cell, def.axes), spec(name));
const evidence = (name: string): SerialLog => parseSerialLog(readFileSync(new URL(`../../cases/matrix/evidence/${name}`, import.meta.url), 'latin1'));
const fixture = (name: string): SerialLog => parseSerialLog(readFileSync(new URL(`../fixtures/serial/${name}`, import.meta.url), 'latin1'));

/** Every failed finding of the case checker (QMP left out: a log has no QMP facts) and the matrix's own checks. */
function failures(cell: string, name: string, log: SerialLog): string[] {
  const e = derive(cell, name);
  const { qmp: _qmp, ...rest } = e.spec.expect;
  const findings = [...checkExpectations(rest, { log }), ...softReservedFindings(e.softReservedChecks, log)];
  expect(findings.length).toBeGreaterThan(0);
  return findings.filter((f) => !f.ok).map((f) => `${f.check}: ${f.detail.join(' ')}`);
}

describe('at the case’s own configuration', () => {
  it.each(['seed-spm', 'seed-reserved', 'seed-normal', 'explicit-normal'])('%s: the derived expectations are the case file’s', (name) => {
    const e = derive('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', name);
    expect(e.kind).toBe('run');
    expect(e.spec.expect).toEqual(spec(name).expect);
    expect(e.softReservedChecks).toEqual([]);
  });
});

describe('firmware that drops spm', () => {
  it('derives what the case file states by hand for seabios-bookworm', () => {
    const explicit = expectationsFor(spec('seed-spm'), 'seabios-bookworm').expect;
    // Derived without the case's onFirmware variant, on the other SeaBIOS.
    const derived = derive('v5.q35.seabios-sid.bookworm-6.1.memfd.unix', 'seed-spm').spec.expect;
    expect(derived.e820).toEqual(explicit.e820);
    expect(derived.srat).toEqual(explicit.srat);
    expect(derived.guest?.softReserved).toEqual(explicit.guest?.softReserved);
    expect(derived.guest?.dax).toEqual(explicit.guest?.dax);
    expect(derived.guest?.nodeMemTotal?.find((b) => b.node === 1)).toEqual({ node: 1, max: '0' });
  });

  it('states it with the reason', () => {
    const e = derive('v5.q35.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-spm');
    expect(e.summary).toContain('firmware drops type 0xEFFFFFFF: spm range absent from E820, SRAT unchanged');
    expect(e.reasons.join('\n')).toMatch(/^ovmf-trixie drops spm: OVMF 2025\.02/m);
  });

  it('matches the real SeaBIOS capture, with and without the case file’s variant', () => {
    const log = evidence('v5.q35.seabios-bookworm.bookworm-6.1.seed-spm.log');
    expect(failures('v5.q35.seabios-bookworm.bookworm-6.1.memfd.unix', 'seed-spm', log)).toEqual([]);
    expect(failures('v5.q35.seabios-sid.bookworm-6.1.memfd.unix', 'seed-spm', log)).toEqual([]);
  });
});

describe('kernel views of a soft-reserved range (real captures on sid’s OVMF)', () => {
  it('6.1 keeps it offline as a dax device', () => {
    expect(failures('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', evidence('v5.q35.ovmf-sid.bookworm-6.1.seed-spm.log'))).toEqual([]);
  });

  it('6.12 onlines it through kmem under a Soft Reserved resource', () => {
    const e = derive('v5.q35.ovmf-sid.trixie-6.12.memfd.unix', 'seed-spm');
    expect(e.spec.expect.guest?.nodeMemTotal).toContainEqual({ node: 1, min: '7680M', max: '8G' });
    expect(e.spec.expect.guest?.softReserved).toEqual(['0x280000000-0x47fffffff']);
    expect(failures('v5.q35.ovmf-sid.trixie-6.12.memfd.unix', 'seed-spm', evidence('v5.q35.ovmf-sid.trixie-6.12.seed-spm.log'))).toEqual([]);
  });

  it('7.2 onlines it and lists it as Soft Reserved only in /sys/firmware/memmap: checked per place', () => {
    const e = derive('v5.q35.ovmf-sid.sid-7.2.memfd.unix', 'seed-spm');
    expect(e.spec.expect.guest?.softReserved).toBeUndefined();
    expect(e.softReservedChecks).toEqual([
      { place: 'iomem', ranges: [] },
      { place: 'firmware-memmap', ranges: ['0x280000000-0x47fffffff'] },
    ]);
    expect(failures('v5.q35.ovmf-sid.sid-7.2.memfd.unix', 'seed-spm', evidence('v5.q35.ovmf-sid.sid-7.2.seed-spm.log'))).toEqual([]);
  });

  it('a 6.1 expectation on the 7.2 capture fails where the views differ', () => {
    const failed = failures('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', evidence('v5.q35.ovmf-sid.sid-7.2.seed-spm.log'));
    expect(failed.some((f) => f.startsWith('/proc/iomem Soft Reserved ranges'))).toBe(true);
    expect(failed.some((f) => f.startsWith('node 1 MemTotal'))).toBe(true);
  });
});

describe('machines', () => {
  it('moves the rows to pc, where low memory ends at 3 GiB', () => {
    const e = derive('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm').spec.expect;
    expect(e.e820?.lines).toEqual([
      'BIOS-e820: [mem 0x0000000100000000-0x000000023fffffff] usable',
      'BIOS-e820: [mem 0x0000000240000000-0x000000043fffffff] soft reserved',
      'BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] reserved',
    ]);
    expect(e.srat).toEqual([
      'ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]',
      'ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0xbfffffff]',
      'ACPI: SRAT: Node 0 PXM 0 [mem 0x100000000-0x23fffffff]',
      'ACPI: SRAT: Node 1 PXM 1 [mem 0x240000000-0x43fffffff]',
    ]);
    expect(e.guest?.softReserved).toEqual(['0x240000000-0x43fffffff']);
  });

  it('matches real pc captures: patched spm on OVMF, and unpatched normal RAM on SeaBIOS', () => {
    expect(failures('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', evidence('v5.pc.ovmf-sid.bookworm-6.1.seed-spm.log'))).toEqual([]);
    expect(failures('baseline.pc.seabios-bookworm.bookworm-6.1.memfd.unix', 'seed-normal', fixture('bookworm-6.1-seabios-bookworm-pc-two-node.log'))).toEqual([]);
  });

  it('does the 7.x print format too (normal RAM, unpatched, q35)', () => {
    expect(failures('baseline.q35.seabios-bookworm.sid-7.2.memfd.unix', 'seed-normal', fixture('sid-7.2-seabios-bookworm-q35-two-node.log'))).toEqual([]);
  });

  it('refuses to move rows when a node lies differently (one segment on one machine, two on the other)', () => {
    const odd: CaseSpec = {
      ...spec('seed-normal'),
      name: 'odd',
      memory: '4G',
      smp: 2,
      nodes: [
        { id: 0, cpus: '0', backend: 'ram', size: '2560M' },
        { id: 1, cpus: '1', backend: 'memfd', size: '1536M' },
      ],
    };
    const e = expectationFor(def, parseCellName('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), odd);
    expect(e.kind).toBe('underivable');
    expect(e.problem).toMatch(/straddles 4 GiB on one of q35 and pc only/);
  });

  it('refuses to move rows of scope all', () => {
    const all: CaseSpec = { ...spec('seed-normal'), expect: { ...spec('seed-normal').expect, e820: { scope: 'all', lines: [] } } };
    expect(expectationFor(def, parseCellName('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), all).kind).toBe('underivable');
  });
});

describe('revisions and the other axes', () => {
  it('v6 leaves a reserved node out of SRAT: the v5 capture then shows one row too many', () => {
    const e = derive('v6.q35.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-reserved');
    expect(e.spec.expect.srat?.some((l) => l.includes('Node 1'))).toBe(false);
    expect(e.summary).toContain('reserved node 1 left out of SRAT');
    const log = evidence('v5.q35.ovmf-trixie.bookworm-6.1.seed-reserved.log');
    expect(failures('v5.q35.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-reserved', log)).toEqual([]);
    expect(failures('v6.q35.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-reserved', log)).toEqual([expect.stringMatching(/^SRAT memory affinity rows: .*extra/)]);
  });

  it('the baseline expects unsupported for a case that sets memmap-type, and the case’s rows otherwise', () => {
    expect(derive('baseline.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm').kind).toBe('unsupported');
    expect(derive('baseline.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'explicit-normal').kind).toBe('unsupported');
    const normal = derive('baseline.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-normal');
    expect(normal.kind).toBe('run');
    expect(normal.spec.expect).toEqual(spec('seed-normal').expect);
  });

  it('replaces the backend of every node after node 0 and changes nothing expected', () => {
    const e = derive('v6.q35.ovmf-sid.bookworm-6.1.file.websocket', 'seed-spm');
    expect(e.spec.nodes.map((n) => n.backend)).toEqual(['ram', 'file']);
    const same = derive('v6.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm');
    expect(e.spec.expect).toEqual(same.spec.expect as Expectations);
  });
});
