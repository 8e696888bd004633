import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCases } from '../../harness/case/load.ts';
import { statedExpectations } from '../../harness/case/on-firmware.ts';
import type { CaseSpec, Expectations } from '../../harness/case/types.ts';
import { checkExpectations } from '../../harness/check/check.ts';
import { softReservedFindings } from '../../harness/check/soft-reserved.ts';
import { expectationFor } from '../../harness/matrix/cell-configuration.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { expectationsFor } from '../../harness/model/expectations.ts';
import { parseCellName } from '../../harness/matrix/name.ts';
import { parseSerialLog, type SerialLog } from '../../harness/parse/log.ts';

/*
 * The expectation engine (harness/model/expectations.ts) as matrix cells use
 * it: a case's stated rows on its own configuration, the layout model's
 * elsewhere (once it reproduces the stated ones), the kernel traits for the
 * guest's view; checked against real serial logs: the evidence of
 * cases/matrix/evidence/ (patched runs) and test/fixtures/serial/ (unpatched).
 */
const def = await loadMatrix();
const cases = new Map((await loadCases(new URL('../../cases/', import.meta.url).pathname, ['seed-spm', 'seed-reserved', 'seed-normal', 'explicit-normal'])).map((c) => [c.name, c]));
const spec = (name: string): CaseSpec => cases.get(name) as CaseSpec;
const derive = (cell: string, name: string) => expectationFor(parseCellName(cell, def.axes), spec(name));
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
    const explicit = statedExpectations(spec('seed-spm'), 'seabios-bookworm').expect;
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
      { place: 'iomem', ranges: [], source: expect.stringMatching(/^arch\/x86\/kernel\/e820\.c e820__reserve_resources_late\(\).*insert_resource_expand_to_fit\(&soft_reserve_resource, res\)/) },
      { place: 'firmware-memmap', ranges: ['0x280000000-0x47fffffff'] },
    ]);
    // Each kernel's expectation names the source line it rests on; 6.1's is the line read in linux-source-6.1.
    expect(e.reasons.some((r) => r.startsWith('sid-7.2 /proc/iomem: arch/x86/kernel/e820.c'))).toBe(true);
    expect(derive('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm').reasons).toContainEqual(expect.stringMatching(/^bookworm-6\.1 \/proc\/iomem: arch\/x86\/kernel\/e820\.c:1231 .*insert_resource_expand_to_fit\(&iomem_resource, res\)/));
    expect(failures('v5.q35.ovmf-sid.sid-7.2.memfd.unix', 'seed-spm', evidence('v5.q35.ovmf-sid.sid-7.2.seed-spm.log'))).toEqual([]);
  });

  it('a 6.1 expectation on the 7.2 capture fails where the views differ', () => {
    const failed = failures('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', evidence('v5.q35.ovmf-sid.sid-7.2.seed-spm.log'));
    expect(failed.some((f) => f.startsWith('/proc/iomem Soft Reserved ranges'))).toBe(true);
    expect(failed.some((f) => f.startsWith('node 1 MemTotal'))).toBe(true);
  });
});

describe('machines', () => {
  it('gives the rows on pc, where low memory ends at 3 GiB', () => {
    const e = derive('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm').spec.expect;
    expect(e.e820).toEqual({
      scope: 'above-4g',
      rows: [
        { start: 0x100000000n, end: 0x23fffffffn, type: 1 },
        { start: 0x240000000n, end: 0x43fffffffn, type: 0xefffffff },
        { start: 0xfd00000000n, end: 0xffffffffffn, type: 2 },
      ],
    });
    expect(e.srat).toEqual([
      { node: 0, pxm: 0, start: 0n, end: 0x9ffffn },
      { node: 0, pxm: 0, start: 0x100000n, end: 0xbfffffffn },
      { node: 0, pxm: 0, start: 0x100000000n, end: 0x23fffffffn },
      { node: 1, pxm: 1, start: 0x240000000n, end: 0x43fffffffn },
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

  it('gives rows where a node lies differently on the two machines (one segment on q35, two on pc)', () => {
    const odd: CaseSpec = {
      ...spec('seed-normal'),
      name: 'odd',
      memory: '4G',
      smp: 2,
      nodes: [
        { id: 0, cpus: '0', backend: 'ram', size: '2560M' },
        { id: 1, cpus: '1', backend: 'memfd', size: '1536M' },
      ],
      expect: {
        e820: { scope: 'above-4g', rows: [{ start: 0x100000000n, end: 0x17fffffffn, type: 1 }, { start: 0xfd00000000n, end: 0xffffffffffn, type: 2 }] },
        srat: [
          { node: 0, pxm: 0, start: 0n, end: 0x9ffffn },
          { node: 0, pxm: 0, start: 0x100000n, end: 0x7fffffffn },
          { node: 0, pxm: 0, start: 0x100000000n, end: 0x11fffffffn },
          { node: 1, pxm: 1, start: 0x120000000n, end: 0x17fffffffn },
        ],
      },
    };
    const e = expectationFor(parseCellName('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), odd);
    expect(e.kind).toBe('run');
    expect(e.spec.expect.srat).toEqual([
      { node: 0, pxm: 0, start: 0n, end: 0x9ffffn },
      { node: 0, pxm: 0, start: 0x100000n, end: 0x9fffffffn },
      { node: 1, pxm: 1, start: 0xa0000000n, end: 0xbfffffffn },
      { node: 1, pxm: 1, start: 0x100000000n, end: 0x13fffffffn },
    ]);
  });

  it('is underivable, with the reason, when the model does not reproduce the stated rows on the case’s own configuration', () => {
    const wrong: CaseSpec = { ...spec('seed-normal'), name: 'wrong', expect: { ...spec('seed-normal').expect, srat: [{ node: 0, pxm: 0, start: 0n, end: 0xfffn }] } };
    const own = expectationFor(parseCellName('v5.q35.ovmf-sid.minimal-6.1.memfd.unix', def.axes), wrong);
    expect(own.kind).toBe('run');
    expect(own.spec.expect.srat).toEqual(wrong.expect.srat);
    const elsewhere = expectationFor(parseCellName('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), wrong);
    expect(elsewhere.kind).toBe('underivable');
    expect(elsewhere.problem).toMatch(/^wrong on its own configuration \(q35, ovmf-sid, v5\): the layout model does not reproduce the case's stated rows \(srat: ~ changed bounds expected \[0x0+-0x0+fff\]/);
  });

  it('is underivable, with the reason, when the traits do not reproduce the guest view the case states on its own configuration', () => {
    const seed = spec('seed-spm');
    const wrong: CaseSpec = { ...seed, name: 'wrong-guest', expect: { ...seed.expect, guest: { ...seed.expect.guest, dax: [] } } };
    const elsewhere = expectationFor(parseCellName('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), wrong);
    expect(elsewhere.kind).toBe('underivable');
    expect(elsewhere.problem).toMatch(/^wrong-guest on its own configuration \(q35, ovmf-sid, minimal-6\.1\): the kernel and firmware traits do not reproduce the case's guest expectations/);
    expect(expectationFor(parseCellName('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), seed).kind).toBe('run');
  });

  it('is underivable, with the reason, when the traits do not reproduce the use steps the case states on its own configuration', () => {
    const seed = spec('seed-spm');
    const wrong: CaseSpec = { ...seed, name: 'wrong-use', expect: { ...seed.expect, use: [{ node: 1, daxPattern: true, kmemOnline: false }] } };
    const elsewhere = expectationFor(parseCellName('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), wrong);
    expect(elsewhere.kind).toBe('underivable');
    expect(elsewhere.problem).toMatch(/^wrong-use on its own configuration \(q35, ovmf-sid, minimal-6\.1\): the kernel and firmware traits do not reproduce the case's use expectations/);
  });

  it('is underivable for rows of scope all on a firmware the model draws only above 4 GiB', () => {
    const all: CaseSpec = { ...spec('seed-normal'), expect: { ...spec('seed-normal').expect, e820: { scope: 'all', rows: [] } } };
    const e = expectationFor(parseCellName('v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), all);
    expect(e.kind).toBe('underivable');
    expect(e.problem).toMatch(/states the whole e820 table/);
  });
});

describe('revisions and the other axes', () => {
  it('v6 leaves a reserved node out of SRAT: the v5 capture then shows one row too many', () => {
    const e = derive('v6.q35.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-reserved');
    expect(e.spec.expect.srat?.some((r) => r.node === 1)).toBe(false);
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

describe('one engine for run and the matrix', () => {
  it('seed-reserved on v6: the stated v5 SRAT row of the reserved node is gone for run too (issue 10)', () => {
    const run = expectationsFor(spec('seed-reserved'), { machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1', revision: 'v6' });
    const cell = derive('v6.q35.ovmf-sid.minimal-6.1.memfd.unix', 'seed-reserved');
    expect(run.spec.expect).toEqual(cell.spec.expect);
    expect(run.spec.expect.srat?.map((r) => r.node)).toEqual([0, 0, 0]);
  });

  it('a case written for v6 keeps its rows on v6 and gets the model’s on v5', () => {
    const v6rows = derive('v6.q35.ovmf-sid.minimal-6.1.memfd.unix', 'seed-reserved').spec.expect;
    const written: CaseSpec = { ...spec('seed-reserved'), revision: 'v6', expect: v6rows };
    const onV6 = expectationsFor(written, { machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1', revision: 'v6' });
    expect(onV6.spec.expect).toBe(written.expect);
    const onV5 = expectationsFor(written, { machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1', revision: 'v5' });
    expect(onV5.spec.expect.srat).toEqual(spec('seed-reserved').expect.srat);
  });

  it('a QEMU of unknown revision gets the stated rows', () => {
    const e = expectationsFor(spec('seed-reserved'), { machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1' });
    expect(e.spec.expect).toBe(spec('seed-reserved').expect);
  });

  it('every cell of the matrix gets an expectation, and none is underivable', async () => {
    const { planMatrix } = await import('../../harness/matrix/expand.ts');
    const plan = planMatrix(def, { allCases: [...cases.keys()] });
    const kinds = plan.cells.flatMap((c) => c.cases.map((name) => `${expectationFor(c.cell, spec(name)).kind}`));
    expect(kinds.length).toBeGreaterThan(100);
    expect(kinds.filter((k) => k === 'underivable')).toEqual([]);
  });
});
