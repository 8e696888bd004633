import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase, validateCase } from '../../harness/case/load.ts';
import { machineArgs, memoryOption } from '../../harness/case/qemu-args.ts';
import { checkExpectations } from '../../harness/check/check.ts';
import type { CaseSpec } from '../../harness/case/types.ts';
import { deviceRegion, deviceSrat, guestSpMemRuns, placeDevices, type DeviceLayout } from '../../harness/model/devices.ts';
import { expectationsFor } from '../../harness/model/expectations.ts';
import { getProfile } from '../../harness/traits/profiles.ts';
import { predictCase } from '../../harness/model/from-case.ts';
import type { Prediction } from '../../harness/model/types.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { caseInInterface } from '../../harness/matrix/interface.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';

// The device rules against rows we did not write: the sp-mem issue's
// measurements on Debian sid's QEMU 11.1.3 (seed layout as sp-mem) and the
// serial logs of the sp-mem cases booted on that QEMU (test/fixtures/sp-mem/).
const GIB = 1n << 30n;
const FOUR_GIB = 4n * GIB;
const baseline = getProfile('baseline');
const caseFile = (name: string) => loadCase(join(REPO_ROOT, 'cases', `${name}.json`));
const capture = (name: string) => parseSerialLog(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'sp-mem', `${name}.ovmf-sid.log`), 'latin1'));
const hex = (n: bigint) => `0x${n.toString(16)}`;

function layout(p: Prediction) {
  if (p.kind !== 'layout') throw new Error(`expected a layout, got ${p.kind}`);
  return p;
}

describe("the issue's measured seed layout as sp-mem (-m 8G,maxmem=24G,slots=2, 8 GiB device on node 1)", () => {
  const device: DeviceLayout = { kind: 'sp-mem', id: 'spm0', node: 1, size: 8n * GIB };
  const region = deviceRegion(8n * GIB, 2n * GIB, 24n * GIB, 2);

  it('the region starts after the RAM above 4 GiB (0x280000000) and ends where maxmem and slots put it (0x6ffffffff)', () => {
    expect(region && [hex(region.start), hex(region.end - 1n)]).toEqual(['0x280000000', '0x6ffffffff']);
  });

  it('query-memory-devices said addr 10737418240 (0x280000000)', () => {
    const placement = region && placeDevices(region, [device]);
    expect(placement && 'placed' in placement ? placement.placed.map((d) => Number(d.start)) : placement).toEqual([10737418240]);
  });

  it('SRAT: node 1 for the device, then the rest of the region as hotplug', () => {
    if (!region) throw new Error('no region');
    const entries = deviceSrat(region, [{ ...device, start: 0x280000000n, end: 0x480000000n }], 1);
    expect(entries.map((e) => `${e.pxm} ${hex(e.start)}-${hex(e.end - 1n)}${e.hotplug ? ' hotplug' : ''}`)).toEqual(['1 0x280000000-0x47fffffff', '1 0x480000000-0x6ffffffff hotplug']);
  });

  it('the harness adds exactly the measured maxmem and slots to the case that states none', async () => {
    const seed = await caseFile('sp-mem-seed');
    expect(memoryOption(seed)).toEqual({ value: '8G,maxmem=24G,slots=2', added: ['maxmem=24G', 'slots=2'] });
    expect(machineArgs(seed, '/tmp').join(' ')).toContain('-device sp-mem,id=spm0,memdev=d0,node=1');
  });

  it('no region without maxmem above the RAM', () => {
    expect(deviceRegion(8n * GIB, 2n * GIB, 8n * GIB, 0)).toBeUndefined();
  });
});

describe('the expectation engine per revision: sp-mem runs on upstream-11.1, is unsupported where the traits say the QEMU lacks it', () => {
  const on = (revision: string | undefined, spec: CaseSpec) => expectationsFor(spec, { machine: spec.machine, firmware: spec.firmware, kernel: spec.kernel, revision });

  it('sp-mem-seed: run (its own rows) on upstream-11.1; unsupported on baseline, v5 and v6, naming the missing device', async () => {
    const seed = await caseFile('sp-mem-seed');
    expect(on('upstream-11.1', seed)).toMatchObject({ kind: 'run', spec: { expect: { srat: seed.expect.srat } } });
    for (const revision of ['baseline', 'v5', 'v6']) {
      expect(on(revision, seed), revision).toMatchObject({ kind: 'unsupported', summary: [expect.stringContaining('has no -device sp-mem')] });
    }
  });

  it('a QEMU of unknown revision is left to the probe; a case without sp-mem is unaffected', async () => {
    expect(on(undefined, await caseFile('sp-mem-seed')).kind).toBe('run');
    expect(on('baseline', await caseFile('seed-normal')).kind).toBe('run');
  });
});

describe('every captured sp-mem boot on QEMU 11.1.3, to the address', () => {
  for (const name of ['sp-mem-seed', 'sp-mem-addr', 'sp-mem-two-nodes', 'sp-mem-beside-pc-dimm']) {
    it(`${name}: BIOS-e820 above 4 GiB and every SRAT row, in order`, async () => {
      const spec = await caseFile(name);
      const predicted = layout(predictCase(spec, 'ovmf-sid', baseline));
      const log = capture(name);
      const e820 = log.e820.filter((r) => r.start >= FOUR_GIB).map(({ start, end, type }) => ({ start, end, type }));
      expect(predicted.e820.rows).toEqual(e820);
      expect(predicted.srat).toEqual(log.srat.map(({ node, pxm, start, end, hotplug }) => ({ node, pxm, start, end, ...(hotplug ? { hotplug } : {}) })));
    });
  }

  it('two devices back to back: SRAT keeps both nodes, the guest merges them into one Soft Reserved range and one dax device', () => {
    const log = capture('sp-mem-two-nodes');
    expect(log.srat.filter((r) => !r.hotplug && r.start >= 0x280000000n).map((r) => r.node)).toEqual([1, 2]);
    expect(log.guest.dax?.map((d) => [d.targetNode, d.size])).toEqual([[1, 6n * GIB]]);
    const runs = guestSpMemRuns([
      { kind: 'sp-mem', id: 'spm0', node: 1, size: 4n * GIB, start: 0x280000000n, end: 0x380000000n },
      { kind: 'sp-mem', id: 'spm1', node: 2, size: 2n * GIB, start: 0x380000000n, end: 0x400000000n },
    ]);
    expect(runs.map((r) => `${r.node} ${hex(r.start)}-${hex(r.end - 1n)}`)).toEqual(['1 0x280000000-0x3ffffffff']);
  });
});

describe('placement and refusals', () => {
  const region = { start: 0x280000000n, end: 0x700000000n };
  const dev = (id: string, size: bigint, addr?: bigint): DeviceLayout => ({ kind: 'sp-mem', id, node: 1, size, ...(addr === undefined ? {} : { addr }) });

  it('an automatic device takes the first gap that fits, before or after an explicit one', () => {
    const placement = placeDevices(region, [dev('a', 4n * GIB, 0x300000000n), dev('b', 2n * GIB), dev('c', 4n * GIB)]);
    expect('placed' in placement && placement.placed.map((d) => hex(d.start))).toEqual(['0x300000000', '0x280000000', '0x400000000']);
  });

  it('an address on another device, or outside the region, is refused', () => {
    expect(placeDevices(region, [dev('a', GIB, 0x280000000n), dev('b', GIB, 0x280000000n)])).toMatchObject({ problem: 'overlaps another memory device' });
    expect(placeDevices(region, [dev('a', GIB, 0x100000000n)])).toMatchObject({ problem: 'outside the device-memory region' });
  });

  it('the model predicts the measured refusals by rule', async () => {
    for (const [name, mention] of [['negative-sp-mem-no-maxmem', 'maxmem'], ['negative-sp-mem-node-out-of-range', 'numa'], ['negative-sp-mem-overlapping-addr', 'conflict']] as const) {
      const spec = await caseFile(name);
      const p = predictCase({ ...spec, expect: { model: true } }, 'seabios-sid', baseline);
      expect(p.kind, name).toBe('refusal');
      if (p.kind === 'refusal') expect(p.expectation.mentions, name).toContain(mention);
    }
  });
});

describe('case validation of devices', () => {
  const base = { name: 'x', description: 'x', machine: 'q35', memory: '2G', smp: 2, firmware: 'ovmf-sid', kernel: 'minimal-6.1', nodes: [{ id: 0, cpus: '0-1', backend: 'ram', size: '2G' }], expect: { model: true } };
  const bad = (extra: Record<string, unknown>) => () => validateCase({ ...base, ...extra }, 'case.json');

  it.each([
    [{ devices: [{ kind: 'nvdimm', node: 0, backend: 'ram', size: '1G' }] }, /devices\[0\]\.kind must be one of sp-mem, pc-dimm/],
    [{ devices: [{ kind: 'sp-mem', node: 3, backend: 'ram', size: '1G' }] }, /devices\[0\]\.node must be one of the case's nodes/],
    [{ devices: [{ kind: 'sp-mem', node: 0, backend: 'ram', size: '1G', colour: 'red' }] }, /devices\[0\]\.colour is not a field/],
    [{ devices: [{ kind: 'sp-mem', node: 0, backend: 'ram', size: '1G', memdev: 'm0' }] }, /only for negative cases/],
    [{ devices: [{ kind: 'sp-mem', node: 0, backend: 'ram', size: '1G', addr: '0x100000800' }] }, /4 KiB aligned/],
    [{ devices: [{ kind: 'sp-mem', node: 0, backend: 'ram', size: '2G', addr: '0x100000000' }, { kind: 'sp-mem', node: 0, backend: 'ram', size: '1G', addr: '0x140000000' }] }, /devices\[1\]\.addr overlaps devices\[0\]/],
    [{ devices: [{ kind: 'sp-mem', node: 0, backend: 'ram', size: '1G' }], maxmem: '2G' }, /maxmem must be at least/],
    [{ devices: [{ kind: 'sp-mem', node: 0, backend: 'ram', size: '1G' }], maxmem: false }, /maxmem can be false only in a negative case/],
  ])('refuses %j', (extra, message) => {
    expect(bad(extra)).toThrow(message);
  });

  it('a planted wrong expectation (the device on node 0) fails against the real capture with a row-level diff', async () => {
    const seed = await caseFile('sp-mem-seed');
    const planted: CaseSpec = { ...seed, devices: (seed.devices ?? []).map((d) => ({ ...d, node: 0 })) };
    const wrong = layout(predictCase(planted, 'ovmf-sid', baseline));
    const findings = checkExpectations({ srat: wrong.srat }, { log: capture('sp-mem-seed') });
    const srat = findings.find((f) => f.aspect === 'srat');
    expect(srat?.ok).toBe(false);
    expect(srat?.rows?.map((r) => r.change)).toContain('changed type');
    expect(srat?.detail.join('\n')).toMatch(/\[0x0000000280000000-0x000000047fffffff\]: expected node 0 PXM 0, got node 1 PXM 1/);
    // The right expectation passes against the same capture.
    const right = expectationsFor(seed, { machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1', revision: 'baseline' }).spec.expect;
    expect(checkExpectations({ srat: right.srat, e820: right.e820 }, { log: capture('sp-mem-seed') }).every((f) => f.ok)).toBe(true);
  });
});

describe('the matrix interface axis: a memmap-type case in its sp-mem form', () => {
  it('seed-spm as sp-mem is the sp-mem-seed command line, with the rows the issue measured', async () => {
    const asSpMem = caseInInterface(await caseFile('seed-spm'), 'sp-mem');
    const seed = await caseFile('sp-mem-seed');
    expect(machineArgs(asSpMem, '/tmp')).toEqual(machineArgs(seed, '/tmp'));
    const expected = expectationsFor(asSpMem, { machine: 'q35', firmware: 'ovmf-sid', kernel: 'minimal-6.1', revision: 'upstream-11.1' });
    expect(expected.spec.expect.srat).toEqual(seed.expect.srat);
    expect(expected.spec.expect.e820).toEqual(seed.expect.e820);
    expect(expected.spec.expect.guest?.softReserved).toEqual(['0x280000000-0x47fffffff']);
  });

  it('has no sp-mem form for reserved or normal-only cases', async () => {
    expect(() => caseInInterface(validateCase(JSON.parse(readFileSync(join(REPO_ROOT, 'cases', 'seed-reserved.json'), 'utf8')), 'seed-reserved'), 'sp-mem')).toThrow(/no sp-mem form/);
  });
});
