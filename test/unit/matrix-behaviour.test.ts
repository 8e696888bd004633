import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCases } from '../../harness/case/load.ts';
import type { CaseSpec } from '../../harness/case/types.ts';
import { detectChanges, observeFirmware, observeSpmView } from '../../harness/matrix/behaviour.ts';
import { expectationFor } from '../../harness/matrix/cell-configuration.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { parseCellName } from '../../harness/matrix/name.ts';
import { outcomeOf } from '../../harness/matrix/row.ts';
import type { TypedMemmap } from '../../harness/core/memmap-types.ts';
import { parseSerialLog, type SerialLog } from '../../harness/parse/log.ts';

/*
 * The firmware-change detection, fed with real captures: a firmware (or kernel)
 * that starts behaving differently from what harness/traits/traits.json states
 * must come out as a loud BEHAVIOUR CHANGED message, never as a silent pass or
 * an ordinary row diff. "A firmware that now passes spm" is simulated by
 * judging sid's OVMF capture against a cell whose firmware the matrix says
 * drops it: the log is what such a firmware's guest prints.
 */
const def = await loadMatrix();
const cases = new Map((await loadCases(new URL('../../cases/', import.meta.url).pathname, ['seed-spm', 'seed-reserved', 'seed-normal'])).map((c) => [c.name, c]));
const evidence = (name: string): SerialLog => parseSerialLog(readFileSync(new URL(`../../cases/matrix/evidence/${name}`, import.meta.url), 'latin1'));
const fixture = (name: string): SerialLog => parseSerialLog(readFileSync(new URL(`../fixtures/serial/${name}`, import.meta.url), 'latin1'));

function changes(cellText: string, caseName: string, log: SerialLog, passes?: Record<TypedMemmap, boolean>): string[] {
  const cell = parseCellName(cellText, def.axes);
  const expectation = expectationFor(cell, cases.get(caseName) as CaseSpec);
  return detectChanges(cell, passes ? { ...expectation, firmwarePasses: passes } : expectation, log);
}

const OVMF_SID_61 = evidence('v5.q35.ovmf-sid.bookworm-6.1.seed-spm.log');
const SEABIOS_61 = evidence('v5.q35.seabios-bookworm.bookworm-6.1.seed-spm.log');

describe('what the logs show', () => {
  const spm = () => expectationFor(parseCellName('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', def.axes), cases.get('seed-spm') as CaseSpec).typed[0];

  it('passes: a soft reserved BIOS-e820 row covers the node', () => {
    const node = spm();
    expect(node).toMatchObject({ id: 1, type: 'spm', ranges: [{ start: 0x280000000n, end: 0x47fffffffn }] });
    expect(observeFirmware(OVMF_SID_61, node!)).toEqual({ seen: 'passes', evidence: 'BIOS-e820 shows [mem 0x0000000280000000-0x000000047fffffff] soft reserved' });
  });

  it('drops: no BIOS-e820 row at all over the node', () => {
    expect(observeFirmware(SEABIOS_61, spm()!)).toEqual({ seen: 'drops', evidence: 'no BIOS-e820 row covers 0x280000000-0x47fffffff' });
  });

  it('neither, when the range is ordinary RAM (unpatched QEMU), in either print format', () => {
    expect(observeFirmware(fixture('bookworm-6.1-seabios-bookworm-q35-two-node.log'), spm()!).seen).toBe('other');
    expect(observeFirmware(fixture('sid-7.2-seabios-bookworm-q35-two-node.log'), spm()!)).toEqual({ seen: 'other', evidence: 'BIOS-e820 shows [mem 0x0000000100000000-0x000000047fffffff] System RAM' });
  });

  it('is not fooled by a soft-reserved range the kernel command line made (user: table, not BIOS-e820)', () => {
    const log = fixture('sid-7.2-seabios-bookworm-q35-two-node-cmdline-memmap-soft-reserved.log');
    expect(log.userE820?.some((e) => e.type === 0xefffffff)).toBe(true);
    expect(observeFirmware(log, spm()!).seen).toBe('other');
  });

  it('reads each kernel’s view of the range', () => {
    expect(observeSpmView(OVMF_SID_61, spm()!)).toEqual({ iomemSoftReserved: true, firmwareMemmapSoftReserved: true, daxDevice: true, onlined: false });
    expect(observeSpmView(evidence('v5.q35.ovmf-sid.trixie-6.12.seed-spm.log'), spm()!)).toEqual({ iomemSoftReserved: true, firmwareMemmapSoftReserved: true, daxDevice: true, onlined: true });
    expect(observeSpmView(evidence('v5.q35.ovmf-sid.sid-7.2.seed-spm.log'), spm()!)).toEqual({ iomemSoftReserved: false, firmwareMemmapSoftReserved: true, daxDevice: true, onlined: true });
  });
});

describe('no change where the facts hold', () => {
  it.each([
    ['v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', 'v5.q35.ovmf-sid.bookworm-6.1.seed-spm.log'],
    ['v5.q35.seabios-bookworm.bookworm-6.1.memfd.unix', 'seed-spm', 'v5.q35.seabios-bookworm.bookworm-6.1.seed-spm.log'],
    ['v5.q35.seabios-sid.bookworm-6.1.memfd.unix', 'seed-spm', 'v5.q35.seabios-bookworm.bookworm-6.1.seed-spm.log'],
    ['v5.q35.ovmf-sid.trixie-6.12.memfd.unix', 'seed-spm', 'v5.q35.ovmf-sid.trixie-6.12.seed-spm.log'],
    ['v5.q35.ovmf-sid.sid-7.2.memfd.unix', 'seed-spm', 'v5.q35.ovmf-sid.sid-7.2.seed-spm.log'],
    ['v5.pc.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', 'v5.pc.ovmf-sid.bookworm-6.1.seed-spm.log'],
    ['v6.q35.ovmf-sid.minimal-6.1.memfd.unix', 'seed-spm', 'v6.q35.ovmf-sid.minimal-6.1.seed-spm.log'],
    ['v5.q35.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-reserved', 'v5.q35.ovmf-trixie.bookworm-6.1.seed-reserved.log'],
  ])('%s %s', (cell, name, log) => {
    expect(changes(cell, name, evidence(log))).toEqual([]);
  });

  it('says nothing for a case without typed nodes, or a run that printed no map', () => {
    expect(changes('v5.q35.seabios-sid.bookworm-6.1.memfd.unix', 'seed-normal', OVMF_SID_61)).toEqual([]);
    expect(changes('v5.q35.seabios-sid.bookworm-6.1.memfd.unix', 'seed-spm', parseSerialLog(''))).toEqual([]);
  });
});

describe('a behaviour change is loud', () => {
  it('a SeaBIOS that starts passing soft reserved through', () => {
    const [message, ...rest] = changes('v5.q35.seabios-sid.bookworm-6.1.memfd.unix', 'seed-spm', OVMF_SID_61);
    expect(rest).toEqual([]);
    expect(message).toBe(
      'BEHAVIOUR CHANGED: firmware seabios-sid now passes soft reserved (E820 type 0xEFFFFFFF) through (BIOS-e820 shows [mem 0x0000000280000000-0x000000047fffffff] soft reserved); ' +
        'harness/traits/traits.json says it drops it: update firmware.seabios-sid.passes.spm and its reason',
    );
  });

  it('trixie’s OVMF starting to pass it, on pc (the range moved with the machine)', () => {
    expect(changes('v6.pc.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-spm', evidence('v5.pc.ovmf-sid.bookworm-6.1.seed-spm.log'))).toEqual([
      expect.stringMatching(/^BEHAVIOUR CHANGED: firmware ovmf-trixie now passes soft reserved .*\[mem 0x0000000240000000-0x000000043fffffff\] soft reserved/),
    ]);
  });

  it('sid’s OVMF no longer passing it', () => {
    expect(changes('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', SEABIOS_61)).toEqual([
      expect.stringMatching(/^BEHAVIOUR CHANGED: firmware ovmf-sid no longer passes soft reserved \(E820 type 0xEFFFFFFF\) through \(no BIOS-e820 row covers 0x280000000-0x47fffffff\); .*update firmware\.ovmf-sid\.passes\.spm/),
    ]);
  });

  it('a firmware that starts dropping reserved', () => {
    // As if traits.json said ovmf-trixie drops reserved.
    expect(changes('v5.q35.ovmf-trixie.bookworm-6.1.memfd.unix', 'seed-reserved', evidence('v5.q35.ovmf-trixie.bookworm-6.1.seed-reserved.log'), { spm: false, reserved: false })).toEqual([
      expect.stringMatching(/^BEHAVIOUR CHANGED: firmware ovmf-trixie now passes reserved \(E820 type 2\) through/),
    ]);
  });

  it('a kernel whose view of soft-reserved memory changed (6.1 stated, 7.2 seen)', () => {
    expect(changes('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', evidence('v5.q35.ovmf-sid.sid-7.2.seed-spm.log'))).toEqual([
      'BEHAVIOUR CHANGED: kernel bookworm-6.1 now shows dax device, onlined by kmem, no Soft Reserved in /proc/iomem (only in /sys/firmware/memmap) for soft-reserved node 1 (0x280000000-0x47fffffff); ' +
        'harness/traits/traits.json says dax device, left offline, Soft Reserved in /proc/iomem: update kernels.bookworm-6.1.whenSpmReachesGuest and its reason',
    ]);
  });

  it('makes the outcome CHANGED, whatever the row checks said', () => {
    expect(outcomeOf({ kind: 'run' }, { status: 'fail' }, ['BEHAVIOUR CHANGED: …'])).toBe('changed');
    expect(outcomeOf({ kind: 'run' }, { status: 'pass' }, ['BEHAVIOUR CHANGED: …'])).toBe('changed');
    expect(outcomeOf({ kind: 'run' }, { status: 'fail' }, [])).toBe('fail');
  });
});

describe('outcomes', () => {
  it('unsupported is a pass only where the cell expects it (the baseline)', () => {
    expect(outcomeOf({ kind: 'unsupported' }, { status: 'unsupported' }, [])).toBe('pass');
    expect(outcomeOf({ kind: 'unsupported' }, { status: 'pass' }, [])).toBe('fail');
    expect(outcomeOf({ kind: 'run' }, { status: 'unsupported' }, [])).toBe('fail');
    expect(outcomeOf({ kind: 'underivable' }, { status: 'error' }, [])).toBe('error');
    expect(outcomeOf({ kind: 'run' }, { status: 'error' }, [])).toBe('error');
  });
});
