import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFilters, casesForCell, expandCells, parseFilter, planMatrix, planOneCell } from '../../harness/matrix/expand.ts';
import { loadMatrix, validateMatrix } from '../../harness/matrix/load.ts';
import { ambiguousValues, cellName, parseCellName } from '../../harness/matrix/name.ts';
import { AXES, type Cell, type MatrixDefinition } from '../../harness/matrix/types.ts';
import { HarnessError } from '../../harness/util/errors.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

const ALL_CASES = ['explicit-normal', 'seed-normal', 'seed-reserved', 'seed-spm', 'layout-other'];
const real = await loadMatrix();

/** A small definition to test the rules on; everything it does not set comes from the real file. */
function toy(overrides: Partial<MatrixDefinition>): MatrixDefinition {
  return validateMatrix({ ...structuredClone(real), ...overrides }, 'toy');
}

const ONE: Record<(typeof AXES)[number], string[]> = { revision: ['v5'], machine: ['q35'], firmware: ['ovmf-sid'], kernel: ['bookworm-6.1'], backend: ['memfd'], transport: ['unix'], interface: ['memmap-type'], accel: ['tcg'] };

describe('the real matrix (cases/matrix/matrix.json)', () => {
  const cells = expandCells(real);
  const names = cells.map(cellName);

  it('expands to distinct cells in include order, each a value of every axis', () => {
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe('v5.q35.seabios-bookworm.bookworm-6.1.memfd.unix');
    for (const cell of cells) for (const axis of AXES) expect(real.axes[axis]).toContain(cell[axis]);
    // 24 core + 12 kernel × firmware + 3 kernels on pc + 4 backend + 3 transport + 6 interface (v6 × memmap-type on the two firmwares is a kernel cell already) + 8 kvm.
    expect(cells).toHaveLength(60);
  });

  it('covers every value of every axis somewhere', () => {
    for (const axis of AXES) expect(new Set(cells.map((c) => c[axis]))).toEqual(new Set(real.axes[axis]));
  });

  it('gives every cell a name GitHub accepts as an artifact name and that parses back to the same cell', () => {
    for (const cell of cells) {
      const name = cellName(cell);
      expect(name).not.toMatch(/[":<>|*?\r\n\\/]/);
      expect(parseCellName(name, real.axes)).toEqual(cell);
    }
  });

  it('runs explicit-normal only in the core grid (the exclude rules)', () => {
    const withExplicit = cells.filter((c) => casesForCell(real, c, ALL_CASES).includes('explicit-normal'));
    expect(withExplicit.every((c) => c.kernel === 'bookworm-6.1' && c.backend === 'memfd' && c.transport === 'unix')).toBe(true);
    // The 24 tcg cells of the core grid and the 8 kvm cells (the core grid's patched half on the sid firmware).
    expect(withExplicit).toHaveLength(32);
    expect(withExplicit.filter((c) => c.accel === 'tcg')).toHaveLength(24);
  });

  it('has subsets whose cells are all matrix cells, each with its cases', () => {
    for (const name of Object.keys(real.subsets)) {
      const plan = planMatrix(real, { allCases: ALL_CASES, subset: name });
      expect(plan.cells.map((c) => c.name)).toEqual(real.subsets[name]?.cells);
      for (const c of plan.cells) expect(c.cases.length).toBeGreaterThan(0);
    }
  });

  it("has a 'test' subset that boots every kernel, firmware and machine, both transports and every revision", () => {
    const test = planMatrix(real, { allCases: ALL_CASES, subset: 'test' }).cells;
    for (const axis of ['kernel', 'firmware', 'machine', 'transport', 'revision'] as const) {
      // The baseline cell boots only cases without memmap-type: seed-normal is in the subset.
      expect(new Set(test.map((c) => c.cell[axis])), axis).toEqual(new Set(real.axes[axis]));
    }
    expect(test.flatMap((c) => c.cases)).toContain('seed-normal');
  });
});

describe('expansion rules', () => {
  it('takes the product of a group, any value where the group names none', () => {
    const def = toy({ include: [{ why: 'x', ...ONE, machine: undefined, transport: ['unix', 'websocket'] }], exclude: [] });
    expect(expandCells(def).map(cellName)).toEqual([
      'v5.q35.ovmf-sid.bookworm-6.1.memfd.unix',
      'v5.q35.ovmf-sid.bookworm-6.1.memfd.websocket',
      'v5.pc.ovmf-sid.bookworm-6.1.memfd.unix',
      'v5.pc.ovmf-sid.bookworm-6.1.memfd.websocket',
    ]);
  });

  it('drops duplicates across groups and whole cells matched by a rule without cases', () => {
    const def = toy({
      include: [{ why: 'a', ...ONE }, { why: 'b', ...ONE, revision: ['v5', 'v6'] }],
      exclude: [{ why: 'no v6 on ovmf-sid', revision: ['v6'], firmware: ['ovmf-sid'] }],
    });
    expect(expandCells(def).map(cellName)).toEqual(['v5.q35.ovmf-sid.bookworm-6.1.memfd.unix']);
  });

  it('drops only the named cases where a rule with cases matches', () => {
    const def = toy({ cases: ['seed-spm', 'seed-normal'], include: [{ why: 'a', ...ONE, transport: ['unix', 'websocket'] }], exclude: [{ why: 'x', cases: ['seed-normal'], transport: ['websocket'] }] });
    const [unix, ws] = expandCells(def) as [Cell, Cell];
    expect(casesForCell(def, unix, ALL_CASES)).toEqual(['seed-spm', 'seed-normal']);
    expect(casesForCell(def, ws, ALL_CASES)).toEqual(['seed-spm']);
  });

  it('"all" means every case file', () => {
    const def = toy({ cases: 'all' });
    expect(casesForCell(def, expandCells(def)[0] as Cell, ALL_CASES)).toEqual(ALL_CASES);
  });

  it('leaves out cells whose axis value is unavailable here, and says why', () => {
    const plan = planMatrix(real, { allCases: ALL_CASES, unavailable: (axis, v) => (axis === 'kernel' && v === 'minimal-6.1' ? 'not built here' : undefined) });
    expect(plan.cells.some((c) => c.cell.kernel === 'minimal-6.1')).toBe(false);
    expect(plan.unavailable.length).toBe(11);
    expect(plan.unavailable.every((u) => u.reason === 'not built here' && u.name.includes('.minimal-6.1.'))).toBe(true);
  });

  it('refuses a subset naming a cell the rules do not produce', () => {
    const def = toy({ subsets: { odd: { description: 'x', cells: ['v5.pc.ovmf-sid.sid-7.2.file.websocket'] } } });
    expect(() => planMatrix(def, { allCases: ALL_CASES, subset: 'odd' })).toThrow(/does not produce|not produce/);
    expect(() => planMatrix(def, { allCases: ALL_CASES, subset: 'nope' })).toThrow(/no subset 'nope'/);
  });
});

describe('filters', () => {
  const plan = () => planMatrix(real, { allCases: ALL_CASES }).cells;

  it('AND across axes, any of the listed values within one', () => {
    const filters = [parseFilter('firmware=ovmf-sid,ovmf-trixie', real), parseFilter('revision=v6', real), parseFilter('machine=pc', real)];
    const kept = applyFilters(plan(), filters);
    expect(kept.length).toBeGreaterThan(0);
    for (const c of kept) {
      expect(['ovmf-sid', 'ovmf-trixie']).toContain(c.cell.firmware);
      expect(c.cell.revision).toBe('v6');
      expect(c.cell.machine).toBe('pc');
    }
    const expected = plan().filter((c) => ['ovmf-sid', 'ovmf-trixie'].includes(c.cell.firmware) && c.cell.revision === 'v6' && c.cell.machine === 'pc');
    expect(kept.map((c) => c.name)).toEqual(expected.map((c) => c.name));
  });

  it('the same axis twice narrows to the intersection', () => {
    const kept = applyFilters(plan(), [parseFilter('kernel=sid-7.2,trixie-6.12', real), parseFilter('kernel=sid-7.2', real)]);
    expect(new Set(kept.map((c) => c.cell.kernel))).toEqual(new Set(['sid-7.2']));
  });

  it('case= keeps cases, and drops cells left without any', () => {
    const kept = applyFilters(plan(), [parseFilter('case=explicit-normal', real)]);
    expect(kept).toHaveLength(32);
    for (const c of kept) expect(c.cases).toEqual(['explicit-normal']);
  });

  it('rejects unknown axes and values with one line naming the valid ones', () => {
    const message = (text: string) => {
      try {
        parseFilter(text, real);
      } catch (error) {
        return (error as HarnessError).oneLine();
      }
      return 'no error';
    };
    expect(message('arch=x86')).toMatch(/'arch' is not an axis; use one of revision, machine, firmware, kernel, backend, transport, interface, accel, case/);
    expect(message('firmware=uboot')).toMatch(/uboot not a value of firmware; values: seabios-bookworm/);
    expect(message('firmware')).toMatch(/write AXIS=VALUE/);
  });
});

describe('cell names', () => {
  it('round-trip for any combination of axis values (property)', { timeout: scaledMs(60_000) }, () => {
    const arb = fc.record(Object.fromEntries(AXES.map((axis) => [axis, fc.constantFrom(...real.axes[axis])])) as Record<(typeof AXES)[number], fc.Arbitrary<string>>);
    fc.assert(
      fc.property(arb, (cell) => {
        expect(parseCellName(cellName(cell), real.axes)).toEqual(cell);
      }),
    );
  });

  it('says which part is wrong', () => {
    expect(() => parseCellName('v5.q35.ovmf-sid.bookworm-6.1.memfd', real.axes)).toThrow(/expected a transport .* at nothing/);
    expect(() => parseCellName('v7.q35.ovmf-sid.bookworm-6.1.memfd.unix', real.axes)).toThrow(/expected a revision \(v5, v6, baseline, upstream-11\.1\) at 'v7\.q35/);
    expect(() => parseCellName('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix.extra', real.axes)).toThrow(/expected a interface \(memmap-type, sp-mem\) at 'extra'/);
    expect(() => parseCellName('v5.q35.ovmf-sid.bookworm-6.1.memfd', real.axes)).toThrow(/expected a transport/);
  });

  it('leaves the default interface out of names, and reads it back', () => {
    const spMem = 'upstream-11.1.q35.ovmf-sid.minimal-6.1.memfd.unix.sp-mem';
    expect(parseCellName(spMem, real.axes)).toMatchObject({ revision: 'upstream-11.1', transport: 'unix', interface: 'sp-mem' });
    expect(cellName(parseCellName(spMem, real.axes))).toBe(spMem);
    expect(parseCellName('v5.q35.ovmf-sid.minimal-6.1.memfd.unix', real.axes).interface).toBe('memmap-type');
    expect(expandCells(real).map(cellName)).toContain('v6.q35.seabios-sid.minimal-6.1.memfd.unix.sp-mem');
    expect(planMatrix(real, { allCases: ALL_CASES }).cells.find((c) => c.name === spMem)?.cases).toEqual(['seed-spm']);
  });

  it('finds values that would make names ambiguous, and the loader refuses them', () => {
    expect(ambiguousValues(['sid', 'sid.7', 'trixie'])).toEqual([['sid', 'sid.7']]);
    expect(() => toy({ axes: { ...real.axes, kernel: ['bookworm-6.1', 'bookworm-6.1.5'] } })).toThrow(/ambiguous/);
  });

  it('plans one cell from its name, inside the matrix or not', () => {
    const inside = planOneCell(real, 'v5.q35.ovmf-sid.sid-7.2.memfd.unix', ALL_CASES);
    expect(inside).toMatchObject({ inMatrix: true, cases: ['seed-spm', 'seed-reserved', 'seed-normal'] });
    const outside = planOneCell(real, 'v5.pc.seabios-sid.sid-7.2.file.websocket', ALL_CASES);
    expect(outside.inMatrix).toBe(false);
    expect(outside.cell).toEqual({ revision: 'v5', machine: 'pc', firmware: 'seabios-sid', kernel: 'sid-7.2', backend: 'file', transport: 'websocket', interface: 'memmap-type', accel: 'tcg' });
  });
});

describe('validation', () => {
  it('names the first bad field', () => {
    expect(() => validateMatrix({ ...real, axes: { ...real.axes, machine: ['q35', 'virt'] } }, 'm.json')).toThrow(/m\.json: axes\.machine value 'virt' is not one of q35, pc/);
    expect(() => validateMatrix({ ...real, include: [{ why: '', revision: ['v5'] }] }, 'm.json')).toThrow(/include\[0\]\.why must say why/);
    expect(() => validateMatrix({ ...real, include: [{ why: 'x', firmware: ['uboot'] }] }, 'm.json')).toThrow(/'uboot' is not a value of axis firmware/);
    const { 'sid-7.2': _dropped, ...kernels } = real.kernels;
    expect(() => validateMatrix({ ...real, kernels }, 'm.json')).toThrow(/axes\.kernel value 'sid-7\.2' has no traits in .*harness\/traits\/traits\.json/);
  });

  it('takes the per-axis traits from harness/traits/traits.json, and checks their shape there', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadTraits, TRAITS_FILE } = await import('../../harness/traits/traits.ts');
    expect(real.firmware).toEqual(loadTraits(TRAITS_FILE).firmware);
    const dir = await mkdtemp(join(tmpdir(), 'traits-'));
    try {
      const bad = { ...loadTraits(TRAITS_FILE), firmware: { 'ovmf-sid': { passes: { spm: true }, reason: { spm: 'x' } } } };
      await writeFile(join(dir, 'traits.json'), JSON.stringify(bad));
      expect(() => loadTraits(join(dir, 'traits.json'))).toThrow(/firmware\.ovmf-sid must say whether it passes reserved through/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
