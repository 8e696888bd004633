import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERIES_DIR } from '../../harness/qemu-build/config.ts';
import { applySeries, PatchApplyError } from '../../harness/source/apply.ts';
import { ensurePristineTree, resolveSource } from '../../harness/source/fetch.ts';
import { loadSeries } from '../../harness/source/series.ts';
import { DEFAULT_SOURCE_SPEC, parseSourceSpec } from '../../harness/source/spec.ts';

/*
 * Our v5 series against the real QEMU 10.2.2 tree (Debian's orig tarball,
 * obtained through the harness's own source cache: free when a build has
 * fetched it), reworked the way a series posted against master differs from
 * the release: hunks at other line numbers, context lines renamed on master.
 * Only the files the series touches are copied, so no build is involved.
 */

const PATCH_0002 = '0002-hw-i386-pc-type-each-NUMA-node-s-RAM-in-E820-by-its-.patch';
/** Lines master is taken to have above the pc.c hunks that 10.2.2 lacks. */
const MASTER_SHIFT = 37;
const SOURCE_LABEL = 'debian:qemu=1:10.2.2+ds-1 (10.2.2)';

let scratch: string;
let pristine: string;
let touched: string[];

/** The files a series directory's patches touch ("diff --git a/X b/X"). */
async function touchedFiles(seriesDir: string): Promise<string[]> {
  const files = new Set<string>();
  for (const name of (await readdir(seriesDir)).filter((n) => n.endsWith('.patch'))) {
    for (const match of (await readFile(join(seriesDir, name), 'utf8')).matchAll(/^diff --git a\/(\S+) b\/\S+$/gm)) files.add(match[1] ?? '');
  }
  return [...files].sort();
}

/** A fresh copy of just the touched files of the pristine 10.2.2 tree. */
async function treeCopy(name: string): Promise<string> {
  const dir = join(scratch, name);
  for (const file of touched) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await cp(join(pristine, file), join(dir, file));
  }
  return dir;
}

async function contents(dir: string, files: readonly string[]): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)));
}

/** v5 with 0002 rewritten by `edit`, as a new series directory. */
async function seriesWith0002(name: string, edit: (text: string) => string): Promise<string> {
  const dir = join(scratch, name);
  await cp(DEFAULT_SERIES_DIR, dir, { recursive: true });
  const path = join(dir, PATCH_0002);
  const before = await readFile(path, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  await writeFile(path, after);
  return dir;
}

/** Moves every hunk of one file's part of a patch down by `shift` lines in both the old and the new numbering. */
function shiftHunks(patch: string, file: string, shift: number): string {
  const start = patch.indexOf(`diff --git a/${file} `);
  const next = patch.indexOf('\ndiff --git ', start + 1);
  const end = next < 0 ? patch.length : next;
  const part = patch.slice(start, end).replace(/^@@ -(\d+),(\d+) \+(\d+),(\d+) @@/gm, (_, a: string, b: string, c: string, d: string) => `@@ -${Number(a) + shift},${b} +${Number(c) + shift},${d} @@`);
  return patch.slice(0, start) + part + patch.slice(end);
}

/** Replaces one exact line of the patch (which must occur once). */
function replaceLine(patch: string, from: string, to: string): string {
  const lines = patch.split('\n');
  const at = lines.filter((l) => l === from);
  expect(at, `patch line ${JSON.stringify(from)}`).toHaveLength(1);
  return lines.map((l) => (l === from ? to : l)).join('\n');
}

/** 0002 as a master-based version would read: pc.c hunks 37 lines further down, a renamed function in the last pc.c hunk's context, a changed define next to the e820 hunk. */
function masterStyle(patch: string): string {
  let text = shiftHunks(patch, 'hw/i386/pc.c', MASTER_SHIFT);
  // First context line of the pc.c hunk that sets numa_memmap_type_supported: fuzz 1.
  text = replaceLine(text, '     mc->get_hotplug_handler = pc_get_hotplug_handler;', '     mc->get_hotplug_handler = pc_machine_get_hotplug_handler;');
  // Second context line of the e820_memory_layout.h hunk: fuzz 2.
  return replaceLine(text, ' #define E820_NVS        4', ' #define E820_NVS        4 /* ACPI NVS */');
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'apply-fuzz-test-'));
  const source = await resolveSource(parseSourceSpec(DEFAULT_SOURCE_SPEC));
  const tree = await ensurePristineTree(source);
  expect(tree.upstreamVersion, `the pristine tree ${tree.dir} should be QEMU 10.2.2`).toBe('10.2.2');
  pristine = tree.dir;
  touched = await touchedFiles(DEFAULT_SERIES_DIR);
  expect(touched).toContain('hw/i386/pc.c');
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the v5 series on QEMU 10.2.2', () => {
  it('applies exactly as it is, with git apply, reporting nothing', async () => {
    const tree = await treeCopy('exact');
    const applied = await applySeries(await loadSeries(DEFAULT_SERIES_DIR), tree, { sourceLabel: SOURCE_LABEL });
    expect(applied.map((a) => [a.tool, a.mode, a.hunks.length])).toEqual([
      ['git apply', 'exact', 0],
      ['git apply', 'exact', 0],
      ['git apply', 'exact', 0],
    ]);
  });

  it('applies a master-style 0002 with the offsets and fuzz it needs, to the same result', async () => {
    const exact = await treeCopy('reference');
    await applySeries(await loadSeries(DEFAULT_SERIES_DIR), exact, { sourceLabel: SOURCE_LABEL });

    const tree = await treeCopy('master-style');
    const series = await loadSeries(await seriesWith0002('series-master-style', masterStyle));
    const applied = await applySeries(series, tree, { sourceLabel: SOURCE_LABEL });
    expect(applied.map((a) => a.mode)).toEqual(['exact', 'fuzz', 'exact']);
    const fuzzy = applied[1];
    expect(fuzzy?.tool).toBe('patch');
    // Lines are those of the patched file: where v5's own headers put the hunks (+15, +826, +972, +982, +1831).
    expect(fuzzy?.hunks.map((h) => [h.file, h.hunk, h.line, h.offset, h.fuzz])).toEqual([
      ['hw/i386/e820_memory_layout.h', 1, 15, 0, 2],
      ['hw/i386/pc.c', 1, 826, -MASTER_SHIFT, 0],
      ['hw/i386/pc.c', 2, 972, -MASTER_SHIFT, 0],
      ['hw/i386/pc.c', 3, 982, -MASTER_SHIFT, 0],
      ['hw/i386/pc.c', 4, 1831, -MASTER_SHIFT, 1],
    ]);
    // Only context differed: the fuzzy result is the exact one, byte for byte.
    expect(await contents(tree, touched)).toEqual(await contents(exact, touched));
  });

  it('applies shifted hunks alone with git apply, reporting the offsets', async () => {
    const tree = await treeCopy('shifted');
    const series = await loadSeries(await seriesWith0002('series-shifted', (t) => shiftHunks(t, 'hw/i386/pc.c', MASTER_SHIFT)));
    const applied = await applySeries(series, tree, { sourceLabel: SOURCE_LABEL });
    expect(applied[1]).toMatchObject({ tool: 'git apply', mode: 'offset' });
    expect(applied[1]?.hunks.map((h) => [h.file, h.hunk, h.offset, h.fuzz])).toEqual([1, 2, 3, 4].map((n) => ['hw/i386/pc.c', n, -MASTER_SHIFT, 0]));
  });

  it('refuses a hunk whose changed line differs on the tree, naming file and hunk, and leaves its files untouched', async () => {
    const tree = await treeCopy('conflict');
    const conflicting = (t: string) =>
      replaceLine(masterStyle(t), '-    e820_add_entry(0, x86ms->below_4g_mem_size, E820_RAM);', '-    e820_add_entry(0, x86ms->below_4g_mem_size, E820_RAM | E820_MASTER_ONLY);');
    const series = await loadSeries(await seriesWith0002('series-conflict', conflicting));
    const ownFiles = ['hw/i386/e820_memory_layout.h', 'hw/i386/pc.c'];
    const before = await contents(tree, ownFiles);

    const error = await applySeries(series, tree, { sourceLabel: SOURCE_LABEL }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PatchApplyError);
    const failure = error as PatchApplyError;
    expect(failure.patch).toBe(PATCH_0002);
    expect(failure.failures).toEqual([{ file: 'hw/i386/pc.c', hunk: 2, line: 972 + MASTER_SHIFT, reason: 'does not fit even with fuzz 2' }]);
    expect(failure.oneLine()).toContain(`patch ${PATCH_0002} does not apply to ${SOURCE_LABEL}: hw/i386/pc.c: hunk #2 (line ${972 + MASTER_SHIFT}) does not fit even with fuzz 2`);
    // 0001 went in (it touches other files); 0002 left no trace.
    expect(await contents(tree, ownFiles)).toEqual(before);
    expect((await readdir(join(tree, 'hw/i386'))).filter((n) => /\.(orig|rej)$/.test(n))).toEqual([]);
  });
});
