import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { loadCases, validateCase } from '../../harness/case/load.ts';
import { statedExpectations } from '../../harness/case/on-firmware.ts';
import { machineArgs } from '../../harness/case/qemu-args.ts';
import { loadCaseSet } from '../../harness/case/sets.ts';

const casesDir = join(REPO_ROOT, 'cases');

describe('case files', () => {
  it('every case in cases/ is valid, and the default set names existing cases', async () => {
    const all = await loadCases(casesDir);
    expect(all.length).toBeGreaterThanOrEqual(4);
    const defaults = await loadCases(casesDir, await loadCaseSet(casesDir, 'default'));
    expect(defaults.map((c) => c.name)).toEqual(['seed-spm', 'seed-reserved', 'seed-normal']);
  });

  it('turns the seed spm case into the cover letter command line, as an argument array', async () => {
    const [spm] = await loadCases(casesDir, ['seed-spm']);
    expect(machineArgs(spm!, '/run/dir')).toEqual([
      '-machine', 'q35', '-accel', 'tcg,thread=single', '-m', '16G', '-smp', '8',
      '-object', 'memory-backend-ram,id=m0,size=8G', '-numa', 'node,nodeid=0,cpus=0-3,memdev=m0',
      '-object', 'memory-backend-memfd,id=m1,size=8G', '-numa', 'node,nodeid=1,cpus=4-7,memdev=m1,memmap-type=spm',
    ]);
  });

  it('puts a file backend in the run directory', async () => {
    const [spm] = await loadCases(casesDir, ['seed-spm']);
    const file = structuredClone(spm!);
    file.nodes[1]!.backend = 'file';
    expect(machineArgs(file, '/run/dir')).toContain('memory-backend-file,id=m1,size=8G,mem-path=/run/dir/m1.mem,share=on');
  });

  it('uses a firmware variant when the firmware has one, and says why', async () => {
    const [spm] = await loadCases(casesDir, ['seed-spm']);
    const seabios = statedExpectations(spm!, 'seabios-bookworm');
    expect(seabios.variantReason).toMatch(/SeaBIOS copies only RAM and reserved entries/);
    expect(seabios.expect.e820?.rows).toEqual([
      { start: 0x100000000n, end: 0x27fffffffn, type: 1 },
      { start: 0xfd00000000n, end: 0xffffffffffn, type: 2 },
    ]);
    expect(seabios.expect.srat).toEqual(spm!.expect.srat);
    expect(statedExpectations(spm!, 'ovmf-sid').variantReason).toBeUndefined();
  });
});

describe('validateCase: one line naming the bad field', () => {
  const good = {
    name: 'x', description: 'd', machine: 'q35', memory: '2G', smp: 2, firmware: 'seabios-bookworm', kernel: 'bookworm-6.1',
    nodes: [{ id: 0, cpus: '0-1', backend: 'ram', size: '2G' }], expect: { model: true },
  };
  const bad = (patch: Record<string, unknown>) => () => validateCase({ ...good, ...patch }, 'cases/x.json');

  it('accepts a good case', () => {
    expect(validateCase(good, 'cases/x.json').name).toBe('x');
  });

  it('reads the kernel lines of e820 and srat as typed rows, 6.1 and 7.x wording alike', () => {
    const lines = {
      e820: { scope: 'all', lines: ['BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable', 'BIOS-e820: [mem 0x0000000280000000-0x000000047fffffff]  System RAM', 'BIOS-e820: [mem 0x0000000480000000-0x000000067fffffff] soft reserved'] },
      srat: ['ACPI: SRAT: Node 1 PXM 1 [mem 0x280000000-0x47fffffff]'],
    };
    expect(validateCase({ ...good, expect: lines }, 'cases/x.json').expect).toEqual({
      e820: { scope: 'all', rows: [{ start: 0n, end: 0x9fbffn, type: 1 }, { start: 0x280000000n, end: 0x47fffffffn, type: 1 }, { start: 0x480000000n, end: 0x67fffffffn, type: 0xefffffff }] },
      srat: [{ node: 1, pxm: 1, start: 0x280000000n, end: 0x47fffffffn }],
    });
  });

  it.each([
    [{ expect: {} }, /expect states nothing to check/],
    [{ machine: 'virt' }, /machine must be one of q35, pc/],
    [{ memory: 'lots' }, /memory 'lots' is not a size/],
    [{ nodes: [{ id: 0, cpus: '0-5', backend: 'ram', size: '2G' }] }, /nodes\[0\]\.cpus must be a vCPU range like 0-3 within smp 2/],
    [{ nodes: [{ id: 0, cpus: '0,memdev=evil', backend: 'ram', size: '2G' }] }, /nodes\[0\]\.cpus/],
    [{ nodes: [{ id: 0, cpus: '0-1', backend: 'ram', size: '1G' }] }, /sizes add up to 1073741824 bytes, not memory 2G/],
    [{ nodes: [{ id: 0, cpus: '0-1', backend: 'ram', size: '2G', memmapType: 'bogus' }] }, /memmapType must be one of normal, spm, reserved/],
    [{ name: 'Bad Name' }, /name must be lower-case/],
    [{ expect: { srat: ['ACPI: SRAT: Node 0 PXM 0 [mem 0x0-0x9ffff]'] } }, /expect\.srat\[0\] 'ACPI: SRAT: Node 0 PXM 0 \[mem 0x0-0x9ffff\]' is not a line the kernel prints/],
    [{ expect: { e820: { scope: 'above-4g', lines: ['[mem 0x0000000100000000-0x000000017fffffff] usable'] } } }, /expect\.e820\.lines\[0\] .* is not a line the kernel prints \(BIOS-e820/],
    [{ expect: { e820: { scope: 'low', lines: [] } } }, /expect\.e820\.scope must be 'all' or 'above-4g'/],
    [{ revision: 'v9' }, /revision 'v9' is not one of baseline, v5, v6/],
  ])('rejects %j', (patch, message) => {
    expect(bad(patch)).toThrow(message);
  });
});

describe('hmat: -machine hmat=on, CPU-less nodes, initiator, hmat-lb entries', () => {
  const hmatCase = async () => structuredClone((await loadCases(casesDir, ['hmat-spm']))[0]!);
  const bad = async (edit: (c: Record<string, unknown> & { nodes: Record<string, unknown>[]; hmat: { lb: Record<string, unknown>[] } }) => void) => {
    const data = JSON.parse(JSON.stringify(await hmatCase(), (_k, v) => (typeof v === 'bigint' ? undefined : v)));
    // The typed rows are dropped above; the file form has none (model: true).
    edit(data);
    return () => validateCase(data, 'x.json');
  };

  it('hmat-spm becomes hmat=on, a node without cpus= with initiator=, and one -numa hmat-lb per entry', async () => {
    const args = machineArgs(await hmatCase(), '/run/dir');
    expect(args.slice(0, 2)).toEqual(['-machine', 'q35,hmat=on']);
    expect(args).toContain('node,nodeid=1,memdev=m1,initiator=0,memmap-type=spm');
    expect(args.filter((a) => a.startsWith('hmat-lb,'))).toEqual([
      'hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=80',
      'hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=200G',
      'hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=150',
      'hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=400G',
    ]);
  });

  it('refuses what QEMU or the model cannot take, naming the field', async () => {
    await expect(bad((c) => delete c.nodes[1]!.initiator)).resolves.toThrow(/x\.json: nodes\[1\]\.initiator must name the node whose vCPUs are local/);
    await expect(bad((c) => (c.nodes[1]!.initiator = 1))).resolves.toThrow(/nodes\[1\]\.initiator must be a node with vCPUs \(0\)/);
    await expect(bad((c) => (c.nodes[0]!.initiator = 0))).resolves.toThrow(/nodes\[0\]\.initiator is only for a node without vCPUs/);
    await expect(bad((c) => delete (c as { hmat?: unknown }).hmat)).resolves.toThrow(/nodes\[1\]\.initiator needs hmat/);
    await expect(bad((c) => (c.hmat.lb[0]!.initiator = 1))).resolves.toThrow(/hmat\.lb\[0\]\.initiator must be a node with vCPUs/);
    await expect(bad((c) => (c.hmat.lb[0]!.target = 5))).resolves.toThrow(/hmat\.lb\[0\]\.target must be one of the case's nodes/);
    await expect(bad((c) => (c.hmat.lb[0]!.dataType = 'hit-latency'))).resolves.toThrow(/hmat\.lb\[0\]\.dataType must be one of access-latency/);
    await expect(bad((c) => (c.hmat.lb[0]!.latency = 0))).resolves.toThrow(/hmat\.lb\[0\]\.latency must be nanoseconds/);
    await expect(bad((c) => (c.hmat.lb[1]!.bandwidth = '1536K'))).resolves.toThrow(/hmat\.lb\[1\]\.bandwidth must be a non-zero multiple of 1 MiB/);
    await expect(bad((c) => (c.hmat.lb[1]!.latency = 5))).resolves.toThrow(/hmat\.lb\[1\]\.latency is for the latency data types/);
    await expect(bad((c) => c.hmat.lb.push({ ...c.hmat.lb[0]! }))).resolves.toThrow(/hmat\.lb\[4\] repeats initiator 0, target 0, access-latency/);
    await expect(bad((c) => (c.hmat.lb = []))).resolves.toThrow(/hmat must be \{"lb"/);
    await expect(bad((c) => (c.nodes[0]!.cpus = '0-9'))).resolves.toThrow(/nodes\[0\]\.cpus must be a vCPU range like 0-3 within smp 4/);
  });
});
