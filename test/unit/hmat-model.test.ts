import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase } from '../../harness/case/load.ts';
import type { CaseNode, HmatSpec } from '../../harness/case/types.ts';
import { checkNodeAccess, compareHmat } from '../../harness/check/hmat.ts';
import { checkLayers } from '../../harness/check/layers.ts';
import { expectationsFor } from '../../harness/model/expectations.ts';
import { predictHmat, predictNodeAccess, type ExpectedHmat } from '../../harness/model/hmat.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { parseNodeAccess } from '../../harness/parse/node-access.ts';
import { parseHmat } from '../../harness/parse/tables/hmat.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';

// The real captures of test/fixtures/hmat/ (see hmat-table.test.ts and the README there).
const DIR = join(REPO_ROOT, 'test', 'fixtures', 'hmat');
const RUNS = ['hmat-spm--v5--qboot--minimal-6.1', 'three-nodes-cache--baseline--qboot--minimal-6.1'] as const;
const bytesOf = (stem: string) => readFileSync(join(DIR, `${stem}.HMAT.dat`));
const logOf = (stem: string) => parseSerialLog(readFileSync(join(DIR, `${stem}.serial.log`), 'latin1'));

describe('node-access: the guest\'s access0 attributes from real serial logs', () => {
  it('hmat-spm (v5): node 0 and node 1 (onlined by kmem) show node 0 as initiator with the case\'s values', () => {
    const { guest: probe } = logOf(RUNS[0]);
    expect(probe.stray).toEqual([]);
    expect(probe.nodeAccess).toEqual([
      { node: 0, state: 'present', initiators: [0], readLatency: 80, writeLatency: 80, readBandwidth: 204800, writeBandwidth: 204800 },
      { node: 1, state: 'present', initiators: [0], readLatency: 150, writeLatency: 150, readBandwidth: 409600, writeBandwidth: 409600 },
    ]);
    expect(probe.nodeAccessMs).toBeGreaterThanOrEqual(0);
  });
  it('three-nodes-cache (baseline): values not given read 0, node 2 is linked to its initiator node 1', () => {
    const { guest: probe } = logOf(RUNS[1]);
    expect(probe.stray).toEqual([]);
    expect(probe.nodeAccess).toEqual([
      { node: 0, state: 'present', initiators: [0], readLatency: 70, writeLatency: 0, readBandwidth: 102400, writeBandwidth: 102400 },
      { node: 1, state: 'present', initiators: [1], readLatency: 70, writeLatency: 0, readBandwidth: 0, writeBandwidth: 0 },
      { node: 2, state: 'present', initiators: [1], readLatency: 250, writeLatency: 300, readBandwidth: 24576, writeBandwidth: 24576 },
    ]);
  });
  it('absent nodes, unreadable values and foreign lines', () => {
    const parsed = parseNodeAccess(['node 3 access0 absent', 'node 4 access0 initiators=- read_latency=- write_latency=5 read_bandwidth=- write_bandwidth=7', '[   9.1] a kernel message', 'uptime 1.50 1.52']);
    expect(parsed.nodes).toEqual([
      { node: 3, state: 'absent' },
      { node: 4, state: 'present', initiators: [], writeLatency: 5, writeBandwidth: 7 },
    ]);
    expect(parsed.stray).toEqual(['[   9.1] a kernel message']);
    expect(parsed.elapsedMs).toBe(20);
  });
});

describe('the HMAT model holds against real guests', () => {
  it('hmat-spm on v5: the case\'s own hmat-lb entries give the HMAT and access0 the guest read; acpi and guest findings pass', async () => {
    const spec = await loadCase(join(REPO_ROOT, 'cases', 'hmat-spm.json'));
    const expectation = expectationsFor(spec, { machine: spec.machine, firmware: 'qboot', kernel: 'minimal-6.1', revision: 'v5' });
    const log = logOf(RUNS[0]);
    const layers = checkLayers(expectation.qemuTables, undefined, log);
    expect(layers.findings.map((f) => [f.aspect, f.check, f.ok, f.detail])).toEqual([
      ['fw_cfg', "QEMU's etc/e820 entries (fw_cfg)", true, []],
      ['acpi', 'SRAT memory affinity structures (PXM, range, flags)', true, []],
      ['acpi', 'HMAT proximity attributes and latency/bandwidth structures', true, []],
    ]);
    const access = checkNodeAccess(expectation.nodeAccess ?? [], log.guest);
    expect(access.map((f) => [f.aspect, f.ok])).toEqual([['guest', true], ['guest', true]]);
  });

  it('three-nodes-cache on unpatched QEMU (not our series): the model gives its proximity and locality structures and the access0 the guest showed', () => {
    // The capture's own command line (three-nodes-cache…qemu-args.txt) as the model's input.
    const nodes: CaseNode[] = [
      { id: 0, cpus: '0-1', backend: 'ram', size: '4G' },
      { id: 1, cpus: '2-3', backend: 'ram', size: '4G' },
      { id: 2, backend: 'ram', size: '4G', initiator: 1 },
    ];
    const hmat: HmatSpec = {
      lb: [
        { initiator: 0, target: 0, dataType: 'read-latency', latency: 70 },
        { initiator: 1, target: 1, dataType: 'read-latency', latency: 70 },
        { initiator: 1, target: 2, dataType: 'read-latency', latency: 250 },
        { initiator: 0, target: 2, dataType: 'write-latency', latency: 400 },
        { initiator: 1, target: 2, dataType: 'write-latency', latency: 300 },
        { initiator: 0, target: 0, dataType: 'access-bandwidth', bandwidth: '100G' },
        { initiator: 1, target: 2, dataType: 'access-bandwidth', bandwidth: '24G' },
      ],
    };
    const predicted = predictHmat(nodes, hmat);
    const table = parseHmat(bytesOf(RUNS[1]));
    const verdict = compareHmat(predicted, table);
    // The memory side cache (hmat-cache) is outside the case format: the only difference, named as extra.
    expect(verdict.detail).toEqual(['  + extra          memory side cache of PXM 2, level 1']);
    expect(compareHmat(predicted, { ...table, caches: [] })).toEqual({ ok: true, detail: [] });
    const access = predictNodeAccess(predicted, new Set([0, 1, 2]), (pxm) => pxm, () => 'offline');
    expect(checkNodeAccess(access, logOf(RUNS[1]).guest).map((f) => f.ok)).toEqual([true, true, true]);
  });
});

describe('the checks can fail', () => {
  const spmHmat = async (): Promise<ExpectedHmat> => {
    const spec = await loadCase(join(REPO_ROOT, 'cases', 'hmat-spm.json'));
    return predictHmat(spec.nodes, spec.hmat as HmatSpec);
  };
  it('an HMAT entry other than the model\'s is named, missing and extra', async () => {
    const spec = await loadCase(join(REPO_ROOT, 'cases', 'hmat-spm.json'));
    const lb = (spec.hmat as HmatSpec).lb.map((e) => (e.target === 1 && e.latency !== undefined ? { ...e, latency: 160 } : e));
    const verdict = compareHmat(predictHmat(spec.nodes, { lb }), parseHmat(bytesOf(RUNS[0])));
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toEqual([
      '  - missing        access-latency: PXM 0 -> PXM 1: 16 x 10000 ps',
      '  + extra          access-latency: PXM 0 -> PXM 1: 15 x 10000 ps',
    ]);
  });
  it('a node without its initiator, or an access0 value other than the model\'s, fails its node', async () => {
    const predicted = await spmHmat();
    const wrongInitiator: ExpectedHmat = { ...predicted, proximity: predicted.proximity.map((p) => (p.memoryPxm === 1 ? { ...p, initiatorValid: false, initiatorPxm: 128 } : p)) };
    expect(compareHmat(wrongInitiator, parseHmat(bytesOf(RUNS[0]))).detail).toEqual(['  - missing        memory PXM 1: no initiator', '  + extra          memory PXM 1: initiator PXM 0']);
    const access = predictNodeAccess(predicted, new Set([0, 1]), (pxm) => pxm, () => 'offline').map((a) => (a.node === 1 && a.state === 'present' ? { ...a, readBandwidth: 204800 } : a));
    const findings = checkNodeAccess(access, logOf(RUNS[0]).guest);
    expect(findings.map((f) => f.ok)).toEqual([true, false]);
    expect(findings[1]?.detail[1]).toContain('read bandwidth 409600 MB/s');
  });
  it('a node the model says is offline must show no access0', async () => {
    const access = predictNodeAccess(await spmHmat(), new Set([0]), (pxm) => pxm, () => 'node 1 is not onlined');
    expect(access[1]).toEqual({ node: 1, state: 'absent', why: 'node 1 is not onlined' });
    expect(checkNodeAccess(access, logOf(RUNS[0]).guest).map((f) => f.ok)).toEqual([true, false]);
  });
});

describe('kmem-online on a node without vCPUs', () => {
  it('a node absent from sysfs before the step counts as MemTotal 0 (hmat-spm: node 1 comes online only through kmem)', async () => {
    const { checkUse } = await import('../../harness/check/use.ts');
    const { guest: probe } = logOf(RUNS[0]);
    expect(probe.useKmem?.before[1]).toBeUndefined();
    const findings = checkUse(['dax-pattern', 'kmem-online'], [{ node: 1, daxPattern: true, kmemOnline: true }], probe);
    expect(findings.map((f) => [f.ok, f.check])).toEqual([
      [true, expect.stringContaining('node 1: /dev/dax0.0')],
      [true, 'node 1: dax0.0 onlined as System RAM (kmem): MemTotal 0 B -> 8 GiB, 64 blocks of 128 MiB'],
    ]);
    // The same node must not pass as "not onlinable": it grew from nothing to 8 GiB.
    expect(checkUse(['kmem-online'], [{ node: 1, kmemOnline: false }], probe).map((f) => f.ok)).toEqual([false]);
  });
});

describe('a failed HMAT check points at the case\'s hmat entries', () => {
  it('both the acpi and the access0 checks are located at "hmat" in the case file', async () => {
    const { locateExpectation } = await import('../../harness/vitest/json-location.ts');
    const { HMAT_CHECK, isHmatCheck } = await import('../../harness/check/hmat.ts');
    const text = readFileSync(join(REPO_ROOT, 'cases', 'hmat-spm.json'), 'utf8');
    const line = text.split('\n').findIndex((l) => l.includes('"hmat": {')) + 1;
    expect(line).toBeGreaterThan(1);
    expect(locateExpectation(text, 'acpi', undefined, 'hmat').line).toBe(line);
    expect(isHmatCheck(HMAT_CHECK)).toBe(true);
    expect(isHmatCheck('node 1 access0 (HMAT as Linux shows it): absent')).toBe(true);
    expect(isHmatCheck('SRAT memory affinity structures (PXM, range, flags)')).toBe(false);
  });
});
