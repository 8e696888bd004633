import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cacheArea } from '../../harness/util/cache-dirs.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { integrationTest as it } from './fixtures.ts';
import { seedSpmEntry } from '../fixtures/report/seed-spm-entry.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * Issue 22, through the command as users run it: a tampered report.json and
 * a series that reaches out of the tree are refused with exit 2 and one line
 * naming the field (or the patch and line), before anything runs, is built
 * or touched. The monitor part is test/integration/monitor-access.test.ts.
 */
const MINUTES = 60_000;

/** A report.json case as a run writes it (schema 2); the case data is cases/seed-spm.json as loaded. */
async function report(edit: (c: Record<string, any>) => void): Promise<string> {
  const entry = seedSpmEntry({ binary: '/nonexistent/qemu-system-x86_64', buildKey: '0'.repeat(64) });
  edit(entry);
  return JSON.stringify({ schemaVersion: 2, cases: [entry] });
}

describe('reproduce refuses a report it cannot trust', () => {
  it.for<[string, (c: Record<string, any>) => void, RegExp]>([
    ['a build key that walks out of the cache', (c: Record<string, any>) => (c.run.qemu.buildKey = '../../../../../etc'), /^memmap-harness: .*r\.json: cases\[0\]\.run\.qemu\.buildKey must be 64 lower-case hex digits; /],
    ['case data that smuggles an option into a backend', (c: Record<string, any>) => (c.caseData.nodes[0].backend = 'ram,mem-path=/etc'), /^memmap-harness: .*r\.json: cases\[0\]\.caseData: nodes\[0\]\.backend must be one of ram, memfd, file; /],
    ['a firmware directory of its own (-L)', (c: Record<string, any>) => (c.run.qemu.firmwareDirs = ['/tmp/evil-roms']), /^memmap-harness: .*r\.json: cases\[0\]\.run\.qemu\.firmwareDirs\[0\] must be one of /],
  ])('%s: exit 2, one line naming the field', { timeout: scaledMs(3 * MINUTES) }, async ([, edit, line], { cli, workDir }) => {
    const path = join(workDir, `r-${Math.random().toString(16).slice(2)}`, 'r.json');
    await mkdir(join(path, '..'));
    await writeFile(path, await report(edit));
    const result = await cli(['reproduce', path, '--results', join(workDir, 'never')], scaledMs(2 * MINUTES));
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(line)]);
    await expect(stat(join(workDir, 'never'))).rejects.toThrow();
  });

  it("never runs the binary the report names, even an executable one: the QEMU comes from the cache by key or --qemu", async ({ cli, workDir }) => {
    const marker = join(workDir, 'ran');
    const evil = join(workDir, 'qemu-system-x86_64');
    await writeFile(evil, `#!/bin/sh\ntouch ${marker}\necho 'QEMU emulator version 10.2.2'\n`);
    await chmod(evil, 0o755);
    const path = join(workDir, 'evil-binary.json');
    await writeFile(path, await report((c) => (c.run.qemu.binary = evil)));
    const result = await cli(['reproduce', path, '--results', join(workDir, 'evil-results')], scaledMs(2 * MINUTES));
    expect(result.exitCode, result.all).toBe(3);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^memmap-harness: the QEMU of seed-spm@patched-v5\.q35\.ovmf-sid\.minimal-6\.1: build 0{16}… is not in this machine's cache \(the report's binary path is not run\); /)]);
    await expect(stat(marker)).rejects.toThrow();
  }, scaledMs(3 * MINUTES));
});

describe('a series that reaches out of the tree is refused before anything is touched', () => {
  async function seriesWith(dir: string, patch: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '0001-evil.patch'), patch);
    return dir;
  }
  const mail = (diff: string) => `From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: a <a@b>\nSubject: [PATCH] evil\n\nrename from ../../../etc/passwd\n---\n${diff}-- \n2.39.2\n`;

  it.for<[string, string, string]>([
    ['a .. component', 'diff --git a/hw/i386/pc.c b/hw/i386/pc.c\n--- a/hw/i386/pc.c\n+++ b/../../outside.c\n@@ -1 +1 @@\n-a\n+b\n', "line 9: names '../../outside.c', whose '..' leaves the tree"],
    ['an absolute path', '--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+toor\n', "line 7: names the absolute path '/etc/passwd'"],
    ['a symbolic link out of the tree', 'diff --git a/hw/evil b/hw/evil\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/hw/evil\n@@ -0,0 +1 @@\n+../../../root/.ssh\n\\ No newline at end of file\n', "line 13: makes hw/evil a symbolic link to '../../../root/.ssh', outside the tree"],
  ])('%s: build exits 2 with one line naming the patch and line', { timeout: scaledMs(3 * MINUTES) }, async ([what, diff, tail], { cli, workDir }) => {
    const dir = await seriesWith(join(workDir, `series-${what.replace(/\W+/g, '-')}`), mail(diff));
    const qemuArea = cacheArea('qemu');
    const before = (await readdir(qemuArea).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
    const result = await cli(['build', '--patches', dir], scaledMs(2 * MINUTES));
    expect(result.exitCode, result.all).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([`memmap-harness: patch 0001-evil.patch ${tail}; a series may only change files inside the QEMU tree; fix or drop that patch`]);
    // Refused while loading the series: no step line (nothing fetched, copied, applied or built), no new entry.
    expect(result.stdout).toBe('');
    expect((await readdir(qemuArea).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort()).toEqual(before);
    expect(await readFile(join(dir, '0001-evil.patch'), 'utf8')).toBe(mail(diff));
    await expect(stat(join(REPO_ROOT, '..', 'outside.c'))).rejects.toThrow();
  });
});
