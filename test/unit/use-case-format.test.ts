import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCases, validateCase } from '../../harness/case/load.ts';
import { expectationsFor } from '../../harness/model/expectations.ts';
import { caseKernelArgs } from '../../harness/run/guest-args.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';

// The case fields of issue 27: `use` (probe steps), `expect.use` (what they
// must show) and `kernelArgs` (negative controls), and how the expectation
// engine carries `expect.use` to configurations other than the case's own.

const good = {
  name: 'x', description: 'd', machine: 'q35', memory: '16G', smp: 2, firmware: 'ovmf-sid', kernel: 'minimal-6.1',
  nodes: [{ id: 0, cpus: '0', backend: 'ram', size: '8G' }, { id: 1, cpus: '1', backend: 'memfd', size: '8G', memmapType: 'spm' }],
  use: ['dax-pattern', 'kmem-online'],
  expect: { guest: { dax: [] }, use: [{ node: 1, daxPattern: true, kmemOnline: true }] },
};
const check = (patch: Record<string, unknown>) => () => validateCase({ ...good, ...patch }, 'cases/x.json');

describe('case format: use, expect.use, kernelArgs', () => {
  it('accepts the steps with an expectation per node, and kernel parameters', () => {
    expect(check({})).not.toThrow();
    expect(check({ kernelArgs: ['efi=nosoftreserve', 'device_hmem.disable=1', 'quiet'] })).not.toThrow();
    expect(check({ use: ['kmem-online'], expect: { use: [{ node: 1, kmemOnline: false }] } })).not.toThrow();
  });

  it.each([
    [{ use: [] }, /use must be a non-empty list of dax-pattern, kmem-online/],
    [{ use: ['dax-pattern', 'rm -rf'] }, /use\[1\] 'rm -rf' is not one of dax-pattern, kmem-online/],
    [{ use: ['dax-pattern', 'dax-pattern'], expect: { use: [{ node: 1, daxPattern: true }] } }, /use\[1\] repeats 'dax-pattern'/],
    [{ expect: { guest: { dax: [] } } }, /expect\.use must say per node what the use steps show/],
    [{ use: undefined }, /expect\.use needs the steps that produce it/],
    [{ expect: { use: [{ node: 7, daxPattern: true, kmemOnline: true }] } }, /expect\.use\[0\]\.node must be one of the case's nodes \(0, 1\)/],
    [{ expect: { use: [{ node: 1, daxPattern: true }] } }, /expect\.use\[0\]\.kmemOnline must be true or false: the case runs kmem-online/],
    [{ use: ['dax-pattern'], expect: { use: [{ node: 1, daxPattern: true, kmemOnline: true }] } }, /expect\.use\[0\]\.kmemOnline needs the kmem-online step/],
    [{ expect: { use: [{ node: 1, daxPattern: 'yes', kmemOnline: true }] } }, /daxPattern must be true or false/],
    [{ expect: { use: [{ node: 1, daxPattern: true, kmemOnline: true, size: '8G' }] } }, /expect\.use\[0\]\.size is not a field/],
    [{ expect: { use: [{ node: 1, daxPattern: true, kmemOnline: true }, { node: 1, daxPattern: true, kmemOnline: true }] } }, /expect\.use\[1\]\.node repeats node 1/],
    [{ kernelArgs: ['efi=nosoftreserve console=ttyS1'] }, /kernelArgs\[0\] 'efi=nosoftreserve console=ttyS1' must be one kernel parameter/],
    [{ kernelArgs: ['a=$(reboot)'] }, /kernelArgs\[0\]/],
    [{ kernelArgs: ['console=tty0'] }, /kernelArgs\[0\] 'console' is set by the harness itself/],
    [{ kernelArgs: ['memmap_harness.use=kmem-online'] }, /kernelArgs\[0\] 'memmap_harness\.use' is set by the harness itself/],
    [{ kernelArgs: [] }, /kernelArgs must be a non-empty list/],
  ])('rejects %j', (patch, message) => {
    expect(check(patch)).toThrow(message);
  });

  it('passes the steps to the guest as one dotted kernel parameter after the case\'s own', () => {
    const spec = validateCase({ ...good, kernelArgs: ['efi=nosoftreserve'] }, 'cases/x.json');
    expect(caseKernelArgs(spec)).toEqual(['efi=nosoftreserve', 'memmap_harness.use=dax-pattern,kmem-online']);
    expect(caseKernelArgs(validateCase({ ...good, use: undefined, expect: { guest: { dax: [] } } }, 'cases/x.json'))).toEqual([]);
  });
});

describe('expect.use on other configurations (the expectation engine)', () => {
  const cases = async (...names: string[]) => loadCases(join(REPO_ROOT, 'cases'), names);
  const on = (firmware: string, kernel: string) => ({ machine: 'q35' as const, firmware, kernel, revision: 'v5' });

  it('seed-spm: mapped and onlined where the range reaches a kernel that leaves it to device-dax; nothing to use where the firmware drops it', async () => {
    const [spm] = await cases('seed-spm');
    expect(expectationsFor(spm!, on('ovmf-sid', 'minimal-6.1')).spec.expect.use).toEqual([{ node: 1, daxPattern: true, kmemOnline: true }]);
    expect(expectationsFor(spm!, on('qboot', 'minimal-6.1')).spec.expect.use).toEqual([{ node: 1, daxPattern: true, kmemOnline: true }]);
    expect(expectationsFor(spm!, on('ovmf-trixie', 'minimal-6.1')).spec.expect.use).toEqual([{ node: 1, daxPattern: false, kmemOnline: false }]);
    expect(expectationsFor(spm!, on('seabios-bookworm', 'minimal-6.1')).spec.expect.use).toEqual([{ node: 1, daxPattern: false, kmemOnline: false }]);
  });

  it('seed-spm on a kernel that onlines the range at boot (7.2): the steps do not run, and the summary says so', async () => {
    const [spm] = await cases('seed-spm');
    const out = expectationsFor(spm!, on('ovmf-sid', 'sid-7.2'));
    expect(out.kind).toBe('run');
    expect(out.spec.use).toBeUndefined();
    expect(out.spec.expect.use).toBeUndefined();
    expect(out.summary).toContain('use steps not run (kernel onlines at boot)');
  });

  it('seed-reserved: never anything to map or online, on any firmware or kernel', async () => {
    const [reserved] = await cases('seed-reserved');
    for (const [firmware, kernel] of [['ovmf-sid', 'minimal-6.1'], ['qboot', 'minimal-6.1'], ['ovmf-sid', 'sid-7.2'], ['seabios-sid', 'bookworm-6.1']] as const) {
      expect(expectationsFor(reserved!, on(firmware, kernel)).spec.expect.use).toEqual([{ node: 1, daxPattern: false, kmemOnline: false }]);
    }
  });

  it('a control with its own kernel parameters holds only on its own configuration', async () => {
    const [control] = await cases('control-efi-nosoftreserve');
    expect(expectationsFor(control!, on('ovmf-sid', 'minimal-6.1')).kind).toBe('run');
    const elsewhere = expectationsFor(control!, on('qboot', 'minimal-6.1'));
    expect(elsewhere.kind).toBe('underivable');
    expect(elsewhere.problem).toMatch(/boots its guest with efi=nosoftreserve, which the kernel and firmware traits do not describe/);
  });
});
