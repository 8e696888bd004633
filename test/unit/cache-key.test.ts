import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BUILDER_VERSION, CONFIGURE_ARGS, readDeviceConfig } from '../../harness/qemu-build/config.ts';
import { qemuCacheKey, type QemuKeyInputs } from '../../harness/qemu-build/key.ts';
import { edk2BlobNames, EMPTY_BZ2 } from '../../harness/qemu-build/placeholders.ts';
import { parseNinjaProgress } from '../../harness/host/progress.ts';
import { identityKey, type SourceIdentity } from '../../harness/source/fetch.ts';

const debian: SourceIdentity = { spec: 'debian:qemu=1:10.2.2+ds-1', kind: 'debian', version: '1:10.2.2+ds-1', hash: 'be05230f'.padEnd(64, '0') };

function inputs(overrides: Partial<QemuKeyInputs> = {}): QemuKeyInputs {
  return {
    source: identityKey(debian),
    seriesHash: 'a'.repeat(64),
    configureArgs: CONFIGURE_ARGS,
    deviceConfig: 'CONFIG_Q35=y\n',
    builderVersion: BUILDER_VERSION,
    ...overrides,
  };
}

describe('qemuCacheKey', () => {
  it('is a stable sha256 of its inputs', () => {
    const key = qemuCacheKey(inputs());
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(qemuCacheKey(inputs())).toBe(key);
    const reordered = { builderVersion: BUILDER_VERSION, deviceConfig: 'CONFIG_Q35=y\n', configureArgs: [...CONFIGURE_ARGS], seriesHash: 'a'.repeat(64), source: { hash: debian.hash, kind: 'debian' as const } };
    expect(qemuCacheKey(reordered)).toBe(key);
  });

  it('ignores how the source was spelled: only its content identity counts', () => {
    const sameBytes: SourceIdentity = { ...debian, spec: 'debian:qemu=1:10.2.2+ds-1 ', version: 'whatever' };
    expect(qemuCacheKey(inputs({ source: identityKey(sameBytes) }))).toBe(qemuCacheKey(inputs()));
  });

  it.each<[string, Partial<QemuKeyInputs>]>([
    ['source content', { source: { kind: 'debian', hash: 'b'.repeat(64) } }],
    ['source kind', { source: { kind: 'dir', hash: debian.hash } }],
    ['series', { seriesHash: 'c'.repeat(64) }],
    ['baseline (no series)', { seriesHash: null }],
    ['configure args', { configureArgs: [...CONFIGURE_ARGS, '--enable-debug'] }],
    ['configure arg order', { configureArgs: [...CONFIGURE_ARGS].reverse() }],
    ['device config', { deviceConfig: 'CONFIG_Q35=y\nCONFIG_I440FX=y\n' }],
    ['builder version', { builderVersion: BUILDER_VERSION + 1 }],
  ])('changes with the %s', (_what, change) => {
    expect(qemuCacheKey(inputs(change))).not.toBe(qemuCacheKey(inputs()));
  });

  it('hashes the device config shipped in harness/qemu-build', async () => {
    const config = await readDeviceConfig();
    for (const line of ['CONFIG_I440FX=y', 'CONFIG_Q35=y', 'CONFIG_PXB=y', 'CONFIG_CXL=y', 'CONFIG_CXL_MEM_DEVICE=y', 'CONFIG_PCIE_PORT=y']) expect(config).toContain(line);
    expect(qemuCacheKey(inputs({ deviceConfig: config }))).not.toBe(qemuCacheKey(inputs()));
  });
});

describe('edk2 placeholders', () => {
  const mesonBuild = `roms = []
if unpack_edk2_blobs
  fds = [
    'edk2-aarch64-code.fd',
    'edk2-x86_64-code.fd',
  ]

  foreach f : fds
    roms += custom_target(f, input: files('@0@.bz2'.format(f)))
  endforeach
endif
blobs = [
  'bios.bin',
]`;

  it("reads only the names in the fds list", () => {
    expect(edk2BlobNames(mesonBuild)).toEqual(['edk2-aarch64-code.fd', 'edk2-x86_64-code.fd']);
    expect(edk2BlobNames('blobs = [ \'bios.bin\' ]')).toEqual([]);
  });

  it('writes a bz2 stream that bzip2 decompresses to nothing', async () => {
    const result = await execa('bzip2', ['-dc'], { input: EMPTY_BZ2, encoding: 'buffer' });
    expect(result.stdout.length).toBe(0);
  });
});

describe('ninja progress', () => {
  it('reads [done/total] from ninja lines', () => {
    expect(parseNinjaProgress('[123/1380] Compiling C object libqemu.a.p/hw_i386_pc.c.o')).toEqual([123, 1380]);
    expect(parseNinjaProgress('ninja: no work to do.')).toBeUndefined();
  });
});
