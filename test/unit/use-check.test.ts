import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkUse, onlinableBytes } from '../../harness/check/use.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';

// The use steps' sections parsed from real serial captures
// (test/fixtures/use/README.md says how each was made) and checked; where a
// test needs a shape no capture has, it derives it from a real capture by one
// stated transformation.
const capture = (name: string): string => readFileSync(new URL(`../fixtures/use/${name}.log`, import.meta.url), 'latin1');
const probeOf = (text: string) => parseSerialLog(text).guest;
const SEED = capture('seed-spm--v5--ovmf-sid--bookworm-6.1');
const PLANTED = capture('seed-spm--v5-planted-spm-as-reserved--ovmf-sid--bookworm-6.1');
const BOTH = ['dax-pattern', 'kmem-online'] as const;
const WORKS = [{ node: 1, daxPattern: true, kmemOnline: true }];
const NOTHING = [{ node: 1, daxPattern: false, kmemOnline: false }];

describe('parsing the use sections (real captures)', () => {
  it('seed-spm on v5: dax0.0 mapped, 11 pages checked; kmem onlined 64 blocks of 128 MiB, node 1 0 -> 8 GiB', () => {
    const probe = probeOf(SEED);
    expect(probe.stray).toEqual([]);
    expect(probe.useDax).toEqual([{ device: 'dax0.0', node: 1, size: 8n << 30n, align: 2n << 20n, checked: 11n * 4096n, result: 'ok' }]);
    expect(probe.useDaxElapsedMs).toBe(150);
    expect(probe.useKmem).toEqual({
      blockSize: 128n << 20n,
      autoOnline: 'offline',
      before: { 0: 8124040n * 1024n, 1: 0n },
      after: { 0: 8124040n * 1024n, 1: 8n << 30n },
      devices: [{ device: 'dax0.0', node: 1, size: 8n << 30n, start: 0x280000000n, from: 'device_dax', driver: 'kmem', unbind: 'ok', bind: 'ok', blocks: 64, onlined: 64, failed: 0 }],
      elapsedMs: 1950,
    });
  });

  it('the planted build (spm typed reserved): the steps ran and found no dax device', () => {
    const probe = probeOf(PLANTED);
    expect(probe.useDax).toEqual([]);
    expect(probe.useKmem?.devices).toEqual([]);
    expect(probe.useKmem?.before[1]).toBe(0n);
    expect(probe.useKmem?.after[1]).toBe(0n);
  });

  it('a log without the steps has no use sections (undefined, not empty)', () => {
    const withoutSteps = SEED.replace(/==== memmap-harness: begin use-dax ====[\s\S]*==== memmap-harness: end use-kmem ====\r\n/, '');
    const probe = probeOf(withoutSteps);
    expect(probe.done).toBe(true);
    expect(probe.useDax).toBeUndefined();
    expect(probe.useKmem).toBeUndefined();
  });
});

describe('checkUse', () => {
  it('passes seed-spm on v5, naming the device, the node, the bytes and the blocks', () => {
    const findings = checkUse(BOTH, WORKS, probeOf(SEED));
    expect(findings).toEqual([
      { aspect: 'use', ok: true, detail: [], check: 'node 1: /dev/dax0.0 45056 bytes (size 8 GiB, align 2 MiB) written through one MAP_SHARED mapping and read back through another' },
      { aspect: 'use', ok: true, detail: [], check: 'node 1: dax0.0 onlined as System RAM (kmem): MemTotal 0 B -> 8 GiB, 64 blocks of 128 MiB' },
    ]);
  });

  it('fails the planted build with one line each: no dax device on node 1', () => {
    const findings = checkUse(BOTH, WORKS, probeOf(PLANTED));
    expect(findings.map((f) => [f.ok, f.check, f.detail[0]])).toEqual([
      [false, 'node 1: its dax device maps and holds a pattern', '  no dax device on node 1 to map (dax devices: none)'],
      [false, 'node 1: its dax device onlined as System RAM (kmem)', '  no dax device on node 1 to reconfigure (dax devices: none)'],
    ]);
  });

  it('"nothing to use" holds on the planted build and on both controls, and fails on a node that has a working dax device', () => {
    for (const name of ['seed-spm--v5-planted-spm-as-reserved--ovmf-sid--bookworm-6.1', 'control-hmem-disabled--v5--ovmf-sid--bookworm-6.1', 'control-efi-nosoftreserve--v5--ovmf-sid--bookworm-6.1']) {
      expect(checkUse(BOTH, NOTHING, probeOf(capture(name))).map((f) => f.ok), name).toEqual([true, true]);
    }
    const onSeed = checkUse(BOTH, NOTHING, probeOf(SEED));
    expect(onSeed.map((f) => f.detail)).toEqual([
      ['  node 1 has dax device dax0.0, and /dev/dax0.0 mapped a pattern'],
      ['  node 1 had dax0.0 (now kmem, 64 blocks onlined)', '  node 1 MemTotal changed by 8589934592 bytes (0 B -> 8 GiB)'],
    ]);
  });

  it('a pattern that does not read back fails, with the offset (derived: the helper\'s line says result=fail)', () => {
    const broken = SEED.replace('checked=45056 result=ok', 'checked=8192 result=fail reason=mismatch-at-offset-0x2000');
    const [pattern] = checkUse(['dax-pattern'], [{ node: 1, daxPattern: true }], probeOf(broken));
    expect(pattern).toMatchObject({ ok: false, detail: ['  /dev/dax0.0 (node 1): fail (mismatch-at-offset-0x2000) after 8192 bytes'] });
  });

  it('a node that grows by less than the device, or blocks that refuse to go online, fail (derived: the after line, the kmem line)', () => {
    const short = SEED.replace('memtotal after node=1 kb=8388608', 'memtotal after node=1 kb=4194304');
    expect(checkUse(['kmem-online'], [{ node: 1, kmemOnline: true }], probeOf(short))[0]?.detail).toEqual([
      '  node 1 MemTotal grew by 4 GiB (4294967296 bytes); expected the device\'s 8 GiB less memory-block rounding: 8589934592 to 8589934592 bytes',
    ]);
    const refused = SEED.replace('onlined=64 failed=0', 'onlined=63 failed=1');
    expect(checkUse(['kmem-online'], [{ node: 1, kmemOnline: true }], probeOf(refused))[0]?.detail).toEqual(['  dax0.0: 1 of 64 memory blocks refused to go online']);
  });

  it('a step that did not run is a failure, never a pass', () => {
    const withoutSteps = SEED.replace(/==== memmap-harness: begin use-dax ====[\s\S]*==== memmap-harness: end use-kmem ====\r\n/, '');
    const findings = checkUse(BOTH, NOTHING, probeOf(withoutSteps));
    expect(findings.map((f) => [f.ok, f.detail[0]])).toEqual([
      [false, 'the dax-pattern step did not run (no use-dax section in the serial log)'],
      [false, 'the kmem-online step did not run (no use-kmem section in the serial log)'],
    ]);
  });

  it('kmem adds only the whole memory blocks inside the device\'s range', () => {
    const block = 128n << 20n;
    expect(onlinableBytes(0x280000000n, 8n << 30n, block)).toBe(8n << 30n);
    expect(onlinableBytes(0x280000000n + 4096n, 8n << 30n, block)).toBe((8n << 30n) - block);
    expect(onlinableBytes(0x280000000n, block - 4096n, block)).toBe(0n);
  });
});
