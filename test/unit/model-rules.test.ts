import { describe, expect, it } from 'vitest';
import { validateCase } from '../../harness/case/load.ts';
import type { CaseNode, CaseSpec, MachineType } from '../../harness/case/types.ts';
import { refusalFindings } from '../../harness/check/refusal.ts';
import { escapeRegExp } from '../../harness/model/refusals.ts';
import { belowFourGSize } from '../../harness/model/qemu.ts';
import { caseAppliesTo, predictCase } from '../../harness/model/from-case.ts';
import { expectationsFor } from '../../harness/model/expectations.ts';
import { getProfile, loadProfiles, profileForQemuLabel, profileForSeries } from '../../harness/traits/profiles.ts';
import type { Prediction } from '../../harness/model/types.ts';

// The model's rules one at a time, on configurations small enough to read.
// (test/unit/model.test.ts holds them against real boots.)
const v5 = getProfile('v5');
const v6 = getProfile('v6');
const baseline = getProfile('baseline');

function spec(machine: MachineType, memory: string, nodes: Partial<CaseNode>[], extra: Partial<CaseSpec> = {}): CaseSpec {
  return {
    name: 'rule', description: 'rule', machine, memory, smp: nodes.length, firmware: 'seabios-bookworm', kernel: 'bookworm-6.1',
    nodes: nodes.map((n, id) => ({ id, cpus: String(id), backend: 'ram', size: '1G', ...n })),
    expect: { model: true },
    ...extra,
  };
}

function layout(p: Prediction) {
  if (p.kind !== 'layout') throw new Error(`expected a layout, got ${p.kind}: ${'reason' in p ? p.reason : ''}`);
  return p;
}

const hexRows = (rows: { start: bigint; end: bigint; type: number }[]) => rows.map((r) => `${r.start.toString(16)}-${r.end.toString(16)} ${r.type.toString(16)}`);

describe('the below-4G split', () => {
  it.each([
    ['pc', 0xd0000000n, 0xd0000000n], // fits under 3.5 GiB: all low
    ['pc', 0xdff00000n, 0xdff00000n],
    ['pc', 0xe0000000n, 0xc0000000n], // 3.5 GiB moves the split to 3 GiB
    ['pc', 16n << 30n, 0xc0000000n],
    ['q35', 0xa0000000n, 0xa0000000n],
    ['q35', 0xaff00000n, 0xaff00000n],
    ['q35', 0xb0000000n, 0x80000000n], // MMCONFIG at 0xb0000000: 2 GiB low
    ['q35', 16n << 30n, 0x80000000n],
  ] as const)('%s with 0x%s bytes', (machine, ram, below) => {
    expect(belowFourGSize(machine, ram)).toBe(below);
  });
});

describe('E820 under SeaBIOS', () => {
  it('q35, one normal node: the BIOS areas, the high tables, MMCONFIG, RCBA, the ROM and the HT hole', () => {
    const p = layout(predictCase(spec('q35', '4G', [{ size: '4G' }]), 'seabios-bookworm', v5));
    expect(hexRows(p.e820.rows)).toEqual([
      '0-9fbff 1', '9fc00-9ffff 2', 'f0000-fffff 2', '100000-7ffdffff 1', '7ffe0000-7fffffff 2',
      'b0000000-bfffffff 2', 'fed1c000-fed1ffff 2', 'fffc0000-ffffffff 2', '100000000-17fffffff 1', 'fd00000000-ffffffffff 2',
    ]);
  });

  it('drops spm, keeps reserved, and merges the tables\' reservation into an adjacent reserved node', () => {
    const p = layout(predictCase(spec('q35', '4G', [{ size: '1G' }, { size: '512M', memmapType: 'reserved' }, { size: '512M', memmapType: 'spm' }, { size: '2G' }]), 'seabios-bookworm', v5));
    expect(hexRows(p.e820.rows).slice(3, 5)).toEqual(['100000-3ffdffff 1', '3ffe0000-5fffffff 2']);
    expect(p.e820.rows.some((r) => r.start === 0x60000000n)).toBe(false);
    expect(p.notes.join(' ')).toMatch(/drops E820 type 0xEFFFFFFF/);
  });

  it('without RAM below 4 GiB there are no ACPI tables, so no SRAT', () => {
    const p = layout(predictCase(spec('q35', '4G', [{ size: '2G', memmapType: 'reserved' }, { size: '2G' }]), 'seabios-bookworm', v5));
    expect(p.printsE820).toBe(true);
    expect(p.printsSrat).toBe(false);
    expect(p.srat).toEqual([]);
  });

  it('without usable RAM at all the guest prints nothing', () => {
    const p = layout(predictCase(spec('pc', '2G', [{ memmapType: 'spm' }, { memmapType: 'reserved' }]), 'seabios-bookworm', v5));
    expect(p.printsE820).toBe(false);
    expect(p.e820.rows).toEqual([]);
  });
});

describe('E820 under OVMF: the rows at or above 4 GiB', () => {
  it('sid\'s OVMF passes spm; trixie\'s drops it', () => {
    const s = spec('q35', '6G', [{ size: '3G' }, { size: '1G', memmapType: 'spm' }, { size: '2G' }]);
    const sid = layout(predictCase(s, 'ovmf-sid', v5));
    expect(sid.e820.scope).toBe('above-4g');
    expect(hexRows(sid.e820.rows)).toEqual(['100000000-13fffffff 1', '140000000-17fffffff efffffff', '180000000-1ffffffff 1', 'fd00000000-ffffffffff 2']);
    const trixie = layout(predictCase(s, 'ovmf-trixie', v5));
    expect(hexRows(trixie.e820.rows)).toEqual(['100000000-13fffffff 1', '180000000-1ffffffff 1', 'fd00000000-ffffffffff 2']);
  });
});

describe('SRAT', () => {
  const twoNodes = spec('pc', '6G', [{ size: '4G' }, { size: '2G', memmapType: 'reserved' }]);

  it('cuts out 640 KiB-1 MiB and the PCI hole; v5 keeps the reserved node', () => {
    const p = layout(predictCase(twoNodes, 'seabios-bookworm', v5));
    expect(p.srat.map((r) => `${r.node}/${r.pxm} ${r.start.toString(16)}-${r.end.toString(16)}`)).toEqual([
      '0/0 0-9ffff', '0/0 100000-bfffffff', '0/0 100000000-13fffffff', '1/1 140000000-1bfffffff',
    ]);
  });

  it('v6 leaves the reserved node out and keeps the layout of the others', () => {
    const p = layout(predictCase(twoNodes, 'seabios-bookworm', v6));
    expect(p.srat.map((r) => r.pxm)).toEqual([0, 0, 0]);
    const later = spec('q35', '3G', [{ memmapType: 'reserved' }, { size: '2G' }]);
    expect(layout(predictCase(later, 'seabios-bookworm', v6)).srat.map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`)).toEqual(['40000000-7fffffff', '100000000-13fffffff']);
  });

  it('numbers Linux nodes in the order the CPUs name their PXMs', () => {
    const swapped = spec('q35', '2G', [{ cpus: '1' }, { cpus: '0' }]);
    expect(layout(predictCase(swapped, 'seabios-bookworm', v5)).srat.map((r) => `${r.node}/${r.pxm}`)).toEqual(['1/0', '1/0', '0/1']);
  });

  it('a node without memdev owns no RAM and gets no row (v5 accepts memmap-type on it)', () => {
    const p = layout(predictCase(spec('q35', '2G', [{ size: '2G' }, { size: '0', memdev: false, memmapType: 'spm' }]), 'seabios-bookworm', v5));
    expect(p.srat.map((r) => r.pxm)).toEqual([0, 0]);
  });
});

describe('refusals, in the order QEMU finds them', () => {
  // The model's refusal in this project's own series' words (the wording for v5 or v6).
  const refusal = (p: Prediction) => (p.kind === 'refusal' ? new RegExp(escapeRegExp(Object.values(p.expectation.wording ?? {})[0] ?? '(none)')) : undefined);

  it('an unknown value comes before a straddling node', () => {
    const s = spec('q35', '4G', [{ size: '1G' }, { size: '3G', memmapType: 'spm' }]);
    s.nodes[0] = { ...s.nodes[0]!, rawNumaOptions: ['memmap-type=bogus'] };
    s.expect = { refusal: { rule: 'x', mentions: ['x'] } };
    const re = refusal(predictCase(s, 'seabios-bookworm', v5));
    expect("qemu-system-x86_64: -numa node,nodeid=0,cpus=0,memdev=m0,memmap-type=bogus: Parameter 'memmap-type' does not accept value 'bogus'").toMatch(re ?? /never/);
  });

  it('straddling: only non-normal nodes, named by id', () => {
    expect(predictCase(spec('q35', '4G', [{ size: '1G' }, { size: '3G', memmapType: 'normal' }]), 'seabios-bookworm', v5).kind).toBe('layout');
    const re = refusal(predictCase(spec('pc', '6G', [{ size: '2G' }, { size: '2G', memmapType: 'reserved' }, { size: '2G' }]), 'seabios-bookworm', v5));
    expect('NUMA node 1 with memmap-type=reserved straddles the 4 GiB boundary: its RAM').toMatch(re ?? /never/);
  });

  it('a node that ends exactly at the split does not straddle', () => {
    expect(predictCase(spec('q35', '4G', [{ size: '2G', memmapType: 'spm' }, { size: '2G' }]), 'seabios-bookworm', v5).kind).toBe('layout');
  });

  it('v6 requires memdev; v5 does not', () => {
    const s = spec('q35', '2G', [{ size: '2G' }, { size: '0', memdev: false, memmapType: 'normal' }]);
    expect('Parameter -numa node,memmap-type requires memdev').toMatch(refusal(predictCase(s, 'seabios-bookworm', v6)) ?? /never/);
    expect(predictCase(s, 'seabios-bookworm', v5).kind).toBe('layout');
  });

  it('a vCPU in two nodes, and missing node ids', () => {
    expect('CPU is already assigned to node-id: 0').toMatch(refusal(predictCase(spec('q35', '2G', [{ cpus: '0' }, { cpus: '0' }]), 'seabios-bookworm', v5)) ?? /never/);
    const gap = spec('q35', '2G', [{}, {}]);
    gap.nodes[1] = { ...gap.nodes[1]!, id: 2 };
    expect('numa: Node ID missing: 1').toMatch(refusal(predictCase(gap, 'seabios-bookworm', v5)) ?? /never/);
  });

  it('the baseline knows no memmap-type at all: unsupported, even for normal', () => {
    expect(predictCase(spec('q35', '2G', [{}, { memmapType: 'normal' }]), 'seabios-bookworm', baseline).kind).toBe('unsupported');
    expect(predictCase(spec('q35', '2G', [{}, {}]), 'seabios-bookworm', baseline).kind).toBe('layout');
  });
});

describe('expectations for a case', () => {
  const s = spec('pc', '6G', [{ size: '4G' }, { size: '2G', memmapType: 'reserved' }]);
  const on = (c: CaseSpec, revision: string | undefined, firmware = 'seabios-bookworm') => expectationsFor(c, { machine: c.machine, firmware, kernel: 'bookworm-6.1', revision }).spec.expect;

  it('fill e820 and srat from the model, as typed rows', () => {
    const e = on(s, 'v6');
    expect(e.e820?.scope).toBe('all');
    expect(e.e820?.rows).toContainEqual({ start: 0x140000000n, end: 0x1bfffffffn, type: 2 });
    expect(e.srat).toEqual([
      { node: 0, pxm: 0, start: 0n, end: 0x9ffffn },
      { node: 0, pxm: 0, start: 0x100000n, end: 0xbfffffffn },
      { node: 0, pxm: 0, start: 0x100000000n, end: 0x13fffffffn },
    ]);
  });

  it('explicit rows win; without model: true and without stated rows nothing changes', () => {
    const explicit = { ...s, expect: { model: true, srat: [{ node: 0, pxm: 0, start: 0n, end: 0x9ffffn }] } };
    expect(on(explicit, 'v5').srat).toEqual(explicit.expect.srat);
    const plain = { ...s, expect: {} };
    expect(on(plain, 'v6')).toBe(plain.expect);
  });

  it('a predicted refusal leaves only the refusal to check', () => {
    const straddle = spec('q35', '4G', [{ size: '1G' }, { size: '3G', memmapType: 'spm' }], { expect: { model: true, qmp: { memdevs: [] } } });
    expect(Object.keys(on(straddle, 'v5')).sort()).toEqual(['model', 'refusal']);
  });

  it('cases name the profiles they are about', () => {
    expect(caseAppliesTo(s, 'v5')).toBe(true);
    expect(caseAppliesTo({ ...s, profiles: ['v6'] }, 'v5')).toBe(false);
  });
});

describe('revision profiles', () => {
  it('are data: baseline, v5, v6+, upstream 11.1 (sp-mem)', () => {
    expect(loadProfiles().map((p) => [p.id, p.memmapTypeSupported, p.memmapNeedsMemdev, p.reservedLeavesSrat, p.spMemSupported])).toEqual([
      ['baseline', false, false, false, false], ['v5', true, false, false, false], ['v6', true, true, true, false], ['upstream-11.1', false, false, false, true],
    ]);
    expect(v6.label).toBe('v6+');
  });

  it('map from build labels and series directories', () => {
    expect(profileForQemuLabel('patched-v6')?.id).toBe('v6');
    expect(profileForQemuLabel('baseline')?.id).toBe('baseline');
    expect(profileForQemuLabel('v5')?.id).toBe('v5');
    expect(profileForQemuLabel('/usr/bin/qemu-system-x86_64')).toBeUndefined();
    expect(profileForSeries('/work/patches/memmap-type/v5/')?.id).toBe('v5');
    expect(profileForSeries(null)?.id).toBe('baseline');
  });
});

describe('case format: model, refusal, memdev, rawNumaOptions, profiles', () => {
  const R = { rule: 'r', mentions: ['x'] };
  const base = { name: 'x', description: 'x', machine: 'q35', memory: '2G', smp: 2, firmware: 'seabios-bookworm', kernel: 'bookworm-6.1' };
  const nodes = (second: Record<string, unknown>) => [{ id: 0, cpus: '0', backend: 'ram', size: '1G' }, { id: 1, cpus: '1', backend: 'ram', size: '1G', ...second }];
  const check = (data: Record<string, unknown>) => () => validateCase({ ...base, ...data }, 'test');

  it('accepts a negative case with a raw memmap-type and a memory-less node', () => {
    expect(check({ nodes: nodes({ rawNumaOptions: ['memmap-type=bogus'] }), expect: { refusal: { rule: 'r', mentions: ['bogus'] } }, profiles: ['v5', 'v6'] })).not.toThrow();
    expect(check({ memory: '1G', nodes: nodes({ size: '0', memdev: false, memmapType: 'spm' }), expect: { refusal: { rule: 'r', mentions: ['memdev'], wording: { v6: 'requires memdev' } } } })).not.toThrow();
  });

  it.each([
    [{ nodes: nodes({ rawNumaOptions: ['memmap-type=bogus'] }), expect: { model: true } }, /rawNumaOptions is only for negative cases/],
    [{ nodes: nodes({ rawNumaOptions: ['memmap-type=a,mem=1G'] }), expect: { refusal: R } }, /must be key=value of letters, digits and dashes/],
    [{ nodes: nodes({ rawNumaOptions: ['memdev=m0'] }), expect: { refusal: R } }, /must not repeat memdev/],
    [{ nodes: nodes({ rawNumaOptions: ['memmap-type=spm'], memmapType: 'spm' }), expect: { refusal: R } }, /must not repeat memmap-type/],
    [{ nodes: nodes({ memdev: false }), expect: {} }, /must be "0" for a node without memdev/],
    [{ nodes: nodes({ memdev: true }), expect: {} }, /memdev can only be false/],
    [{ nodes: nodes({}), expect: { refusal: { rule: 'r', mentions: ['('] } } }, /expect.refusal.mentions\[0\] is not a regular expression/],
    [{ nodes: nodes({}), expect: { refusal: 'straddles the 4 GiB boundary' } }, /expect.refusal must be \{"rule"/],
    [{ nodes: nodes({}), expect: { refusal: { rule: 'r', mentions: [] } } }, /expect.refusal.mentions must list at least one/],
    [{ nodes: nodes({}), expect: { refusal: { rule: '', mentions: ['x'] } } }, /expect.refusal.rule must say in words/],
    [{ nodes: nodes({}), expect: { refusal: { rule: 'r', mentions: ['x'], wording: { v7: 'x' } } } }, /expect.refusal.wording.v7 is not a revision/],
    [{ nodes: nodes({}), expect: { refusal: { rule: 'r', mentions: ['x'], pattern: 'x' } } }, /expect.refusal.pattern is not a field/],
    [{ nodes: nodes({}), expect: { model: 'yes' } }, /expect.model must be true or false/],
    [{ nodes: nodes({}), expect: { model: true }, profiles: ['v7'] }, /profiles 'v7' is not one of baseline, v5, v6/],
  ])('rejects %j', (data, message) => {
    expect(check(data)).toThrow(message);
  });
});

describe('refusal findings: behaviour first, our wording only on our own series', () => {
  const straddle = { rule: 'node 1 may not straddle 4 GiB', mentions: ['node\\W{0,4}(?:id\\W{0,2})?1\\b', '\\b4 ?gi?b\\b'], wording: { v5: 'NUMA node 1 with memmap-type=spm straddles the 4 GiB boundary' } };
  const refusedWith = (qemuMessage: string) => ({ refused: true as const, qemuMessage, stderr: `${qemuMessage}\n` });
  const failed = (findings: { ok: boolean; check: string }[]) => findings.filter((f) => !f.ok).map((f) => f.check);

  it('our series\' words pass on our own v5 build', () => {
    const ours = refusedWith('qemu-system-x86_64: NUMA node 1 with memmap-type=spm straddles the 4 GiB boundary: its RAM (0x40000000-0xffffffff) crosses …');
    expect(failed(refusalFindings(straddle, ours, { ownSeries: 'v5' }))).toEqual([]);
    expect(refusalFindings(straddle, ours, { ownSeries: 'v5' })).toHaveLength(3);
  });

  it('another implementation\'s words about the same rule pass; the wording is not checked on it', () => {
    const theirs = refusedWith('qemu-system-x86_64: -numa node,nodeid=1,memdev=m1,memmap-type=spm: memory of node-id 1 would cross 4GiB');
    expect(failed(refusalFindings(straddle, theirs))).toEqual([]);
    expect(refusalFindings(straddle, theirs)).toHaveLength(2);
  });

  it('our own build with other words fails only the wording check', () => {
    const reworded = refusedWith('qemu-system-x86_64: node 1 crosses the 4 GiB line');
    expect(failed(refusalFindings(straddle, reworded, { ownSeries: 'v5' }))).toEqual([`this project's v5 series words it "${straddle.wording.v5}"`]);
  });

  it('a refusal for an unrelated reason is not the expected refusal', () => {
    for (const unrelated of ['qemu-system-x86_64: could not load PC BIOS \'/nonexistent/bios.bin\'', 'qemu-system-x86_64: unsupported machine type: "pc-q35-99.0"']) {
      const findings = refusalFindings(straddle, refusedWith(unrelated));
      expect(failed(findings)).toHaveLength(1);
      expect(findings.flatMap((f) => f.detail).join('\n')).toMatch(/refused for another reason[\s\S]*QEMU said: /);
    }
  });

  it('a QEMU that starts fails', () => {
    const findings = refusalFindings(straddle, { refused: false });
    expect(findings).toEqual([{ aspect: 'refusal', check: 'QEMU refuses to start: node 1 may not straddle 4 GiB', ok: false, detail: ['  QEMU started (the configuration was accepted)'] }]);
  });
});

describe('the engine for runCase', () => {
  const s = spec('q35', '4G', [{ size: '2G' }, { size: '2G', memmapType: 'reserved' }]);
  const run = (c: CaseSpec, label: string) => expectationsFor(c, { machine: c.machine, firmware: 'seabios-bookworm', kernel: 'bookworm-6.1', revision: profileForQemuLabel(label)?.id });

  it('takes the revision from the build label and fills in the model', () => {
    expect(run(s, 'patched-v6').spec.expect.srat).toHaveLength(2);
    expect(run(s, 'patched-v5').spec.expect.srat).toHaveLength(3);
  });

  it('needs a known revision only when the case uses the model', () => {
    expect(() => run(s, '/opt/qemu/bin/qemu-system-x86_64')).toThrow(/needs the QEMU's revision/);
    expect(run({ ...s, expect: {} }, '/opt/qemu/bin/qemu-system-x86_64').spec.expect).toEqual({});
  });
});
