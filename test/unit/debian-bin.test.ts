import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureQemuFromSource } from '../../harness/qemu-build/any-source.ts';
import { debianBinKey, debianBinLabel, parseDebFileName, wrapperScript } from '../../harness/qemu-build/debian-bin.ts';
import { isDebianBinSpec, parseDebianBinSpec, parseSourceSpec, SourceSpecError } from '../../harness/source/spec.ts';
import { HarnessError } from '../../harness/util/errors.ts';

let scratch: string;
beforeAll(async () => {
  // A space in the path: the wrapper must quote every path it builds.
  scratch = await mkdtemp(join(tmpdir(), 'debian bin test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('debian-bin: specs', () => {
  it('parses package, exact version and suite', () => {
    expect(parseDebianBinSpec('debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid')).toEqual({
      kind: 'debian-bin',
      text: 'debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid',
      package: 'qemu-system-x86',
      version: '1:11.1.3+ds-1',
      suite: 'sid',
    });
  });

  it('defaults to the suite sid and leaves the version to be resolved', () => {
    expect(parseDebianBinSpec('debian-bin:qemu-system-x86')).toMatchObject({ package: 'qemu-system-x86', version: undefined, suite: 'sid' });
    expect(parseDebianBinSpec(' debian-bin:qemu-system-x86@trixie ')).toMatchObject({ version: undefined, suite: 'trixie', text: 'debian-bin:qemu-system-x86@trixie' });
  });

  it('refuses malformed specs and unknown suites with one line', () => {
    for (const bad of ['debian-bin:', 'debian-bin:qemu-system-x86=', 'debian-bin:Qemu', 'debian-bin:qemu-system-x86=1.0 junk', 'debian-bin:qemu-system-x86@']) {
      expect(() => parseDebianBinSpec(bad), bad).toThrow(SourceSpecError);
    }
    expect(() => parseDebianBinSpec('debian-bin:qemu-system-x86@experimental')).toThrow(/suite 'experimental' is not one of bookworm, trixie, sid/);
  });

  it('is told apart from debian: source specs, which refuse it as a source tree', () => {
    expect(isDebianBinSpec('debian-bin:qemu-system-x86')).toBe(true);
    expect(isDebianBinSpec('debian:qemu=1:10.2.2+ds-1')).toBe(false);
    expect(isDebianBinSpec(undefined)).toBe(false);
    expect(() => parseSourceSpec('debian-bin:qemu-system-x86@sid')).toThrow(/names a binary package, which cannot be built or patched/);
  });

  it('takes no patch series, failing before any download', async () => {
    const error = await ensureQemuFromSource({ source: 'debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid', patches: '/some/series' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as HarnessError).oneLine()).toMatch(/is a binary package: the series \/some\/series cannot be applied to it; drop --patches/);
  });
});

describe('the debian-bin entry', () => {
  it('keys on package, version and suite', () => {
    const spec = parseDebianBinSpec('debian-bin:qemu-system-x86@sid');
    const key = debianBinKey(spec, '1:11.1.3+ds-1');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(debianBinKey(spec, '1:11.1.4+ds-1')).not.toBe(key);
    expect(debianBinKey({ ...spec, suite: 'trixie' }, '1:11.1.3+ds-1')).not.toBe(key);
    expect(debianBinKey(parseDebianBinSpec('debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid'), '1:11.1.3+ds-1')).toBe(key);
  });

  it('labels it by QEMU version, safe in a file name', () => {
    expect(debianBinLabel('11.1.3')).toBe('debian-bin-11.1.3');
    expect(debianBinLabel('11.1.3 (weird/version)')).toBe('debian-bin-11.1.3_weird_version_');
  });

  it("reads debootstrap's .deb file names, epoch included", () => {
    expect(parseDebFileName('qemu-system-x86_1%3a11.1.3+ds-1_amd64.deb')).toEqual({ name: 'qemu-system-x86', version: '1:11.1.3+ds-1' });
    expect(parseDebFileName('libc6_2.43-7_amd64.deb')).toEqual({ name: 'libc6', version: '2.43-7' });
    expect(parseDebFileName('partial')).toBeUndefined();
  });

  it('has a wrapper that execs the root loader with the library path, the firmware dirs and every argument', async () => {
    const entry = join(scratch, 'entry');
    const root = join(entry, 'root');
    await mkdir(join(root, 'usr', 'lib64'), { recursive: true });
    await mkdir(join(entry, 'bin'), { recursive: true });
    // A stand-in loader that prints what it was given, one argument per line, and the module directory.
    const loader = join(root, 'usr', 'lib64', 'ld-linux-x86-64.so.2');
    await writeFile(loader, '#!/bin/sh\nprintf "%s\\n" "QEMU_MODULE_DIR=$QEMU_MODULE_DIR" "$@"\n');
    await chmod(loader, 0o755);
    const wrapper = join(entry, 'bin', 'qemu-system-x86_64');
    await writeFile(wrapper, wrapperScript('usr/lib64/ld-linux-x86-64.so.2', ['usr/lib/x86_64-linux-gnu'], "Debian's qemu-system-x86 test"));
    await chmod(wrapper, 0o755);
    // Called through a symlink elsewhere: the paths still point into the entry.
    const link = join(scratch, 'qemu link');
    await symlink(wrapper, link);

    const { stdout } = await execa(link, ['-device', 'sp-mem,help', 'an argument with spaces']);
    const r = root;
    expect(stdout.split('\n')).toEqual([
      `QEMU_MODULE_DIR=${r}/usr/lib/x86_64-linux-gnu/qemu`,
      '--library-path', `${r}/usr/lib/x86_64-linux-gnu`,
      `${r}/usr/bin/qemu-system-x86_64`,
      '-L', `${r}/usr/share/seabios`,
      '-L', `${r}/usr/share/qemu`,
      '-device', 'sp-mem,help', 'an argument with spaces',
    ]);
  });
});
