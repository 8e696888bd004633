import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePatchNames } from '../../harness/source/series.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * `review` end to end through the real CLI, real builds and real guests: our
 * own v6 series posted as b4 would save it (one mbox: a cover letter without a
 * diff, then the patches as `git format-patch --stdout` writes them, subjects
 * "[PATCH v6 N/4]"), reviewed against v5. patches/memmap-type/v6 is the whole
 * series (v5's three patches renumbered, plus 0004), not a delta on v5, so the
 * mbox is the four files in order. And the same series with one context line
 * of 0004 changed, which must not apply.
 */

const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const V6 = join(REPO_ROOT, 'patches', 'memmap-type', 'v6');
const V5 = join(REPO_ROOT, 'patches', 'memmap-type', 'v5');

let scratch: string;

const COVER = [
  'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
  'From: memmap-harness <memmap-harness@localhost>',
  'Date: Wed, 25 Nov 2026 13:36:03 +0000',
  'Subject: [PATCH v6 0/4] numa: memmap-type for -numa node',
  '',
  'v6: memmap-type requires memdev=; a reserved node leaves the SRAT.',
  '',
  'memmap-harness (4):',
  '  numa: add memmap-type option to -numa node',
  '  hw/i386/pc: type each NUMA node\'s RAM in E820 by its memmap-type',
  '  qemu-options: document -numa node,memmap-type',
  '  numa: memmap-type requires memdev; leave reserved nodes out of SRAT',
  '',
  '-- ',
  '2.39.5',
  '',
  '',
].join('\n');

/** The v6 series as one mbox, each patch's subject tagged v6 as a posted revision is. */
async function writeV6Mbox(path: string, edit: (name: string, text: string) => string = (_, t) => t): Promise<void> {
  const names = (await readdir(V6)).filter((n) => n.endsWith('.patch')).sort(comparePatchNames);
  const patches = await Promise.all(names.map(async (n) => edit(n, (await readFile(join(V6, n), 'utf8')).replace(/^Subject: \[PATCH /m, 'Subject: [PATCH v6 '))));
  await writeFile(path, COVER + patches.join(''));
}

async function review(...args: string[]) {
  return execa('node', [CLI, 'review', ...args], { cwd: REPO_ROOT, reject: false, timeout: scaledMs(3_000_000), env: { ...process.env, FORCE_COLOR: '0' } });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'review-test-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('review of our v6 series as one mbox, against v5', () => {
  let result: Awaited<ReturnType<typeof review>>;
  let results: string;
  let text: string;
  let json: {
    interface: { profile: string; interfaces: { memmapType: string } };
    applied: { notes: string[] };
    cases: { name: string; firmware: string; status: { status: string; outcome: string }; 'against:patches/memmap-type/v5': { status: string } }[];
    differences: { against: string; rows: string[] }[];
    testedBy: string | null;
    exitStatus: number;
  };
  let seconds: number;

  beforeAll(async () => {
    const mbox = join(scratch, 'v6.mbx');
    await writeV6Mbox(mbox);
    results = join(scratch, 'results');
    const started = performance.now();
    result = await review(mbox, '--against', 'patches/memmap-type/v5', '--results', results, '--tested-by', 'Test Reviewer <reviewer@example.org>');
    seconds = (performance.now() - started) / 1000;
    console.log(`review wall time: ${seconds.toFixed(0)} s`);
    text = await readFile(join(results, 'review.md'), 'utf8').catch(() => '');
    json = JSON.parse(await readFile(join(results, 'review.json'), 'utf8').catch(() => '{}'));
  }, scaledMs(3_000_000));

  it('runs every case as its revision expects (exit 0)', () => {
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(json.exitStatus).toBe(0);
  });

  it('classifies the series v6-like from its behaviour (profile v6)', () => {
    expect(json.interface.interfaces.memmapType).toBe('v6-like');
    expect(json.interface.profile).toBe('v6');
    expect(text).toMatch(/memmap-type requiring memdev \(v6-like\)/);
  });

  it('gives every planned case a verdict on the series, on three firmware', () => {
    expect(json.cases.length).toBeGreaterThanOrEqual(10);
    for (const c of json.cases) expect(['pass', 'fail', 'error', 'unsupported'], `${c.name} [${c.firmware}]`).toContain(c.status.status);
    expect(new Set(json.cases.filter((c) => c.name === 'seed-reserved').map((c) => c.firmware))).toEqual(new Set(['qboot', 'ovmf-sid', 'seabios-bookworm']));
    // v6's own refusal is not about v5: it runs on the series only.
    const withoutMemdev = json.cases.find((c) => c.name === 'negative-memmap-type-without-memdev');
    expect(withoutMemdev?.status.status).toBe('pass');
    expect(withoutMemdev?.['against:patches/memmap-type/v5'].status).toBe('n/a');
  });

  it('lists the seed-reserved SRAT entry v5 has and v6 does not, on every firmware', () => {
    const rows = json.differences.find((d) => d.against === 'patches/memmap-type/v5')?.rows ?? [];
    const srat = rows.filter((r) => /^seed-reserved \[/.test(r) && /SRAT entry pxm 1 \[0x280000000-0x47fffffff\] present in patches\/memmap-type\/v5, absent in \S*v6\.mbx$/.test(r));
    expect(srat, rows.join('\n')).toHaveLength(1);
    expect(srat[0]).toContain('qboot|ovmf-sid|seabios-bookworm');
    // In review.md the row is wrapped for the mail: compare with line breaks as spaces.
    expect(text.replace(/\s+/g, ' ')).toContain(`${srat[0]}`.replace(/\s+/g, ' '));
  });

  it("lists v6's memdev refusal, which v5 does not make (run there to observe, not judged)", () => {
    const rows = json.differences.find((d) => d.against === 'patches/memmap-type/v5')?.rows ?? [];
    expect(rows.filter((r) => /^negative-memmap-type-without-memdev \[q35, qboot, minimal-6\.1\]: refusal ".*memdev.*" in \S*v6\.mbx; patches\/memmap-type\/v5: started/.test(r)), rows.join('\n')).toHaveLength(1);
  });

  it('writes a mail-ready review.md: subject, base, apply notes, table, differences, version, command line', () => {
    const lines = text.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThan(100);
    expect(text).not.toMatch(/<\/?(html|body|table|tr|td|th|p|br|div|span|a|b|i|pre|code)\b[^>]*>/i);
    expect(lines[0]).toBe('Review of: [PATCH v6 0/4] numa: memmap-type for -numa node');
    expect(text).toContain('cover letter skipped');
    expect(text).toMatch(/^Base: the series names no base-commit$/m);
    expect(text).toMatch(/^Apply notes:\n {2}\S/m);
    expect(text).toMatch(/^ {2}case +firmware +v6\.mbx +v5$/m);
    expect(text).toMatch(/^ {2}seed-reserved +seabios-bookworm +pass +pass$/m);
    expect(text).toMatch(/^memmap-harness \d+\.\d+\.\d+/m);
    expect(text).toMatch(/^reproduce with:\n {2}memmap-harness review \S+v6\.mbx --against patches\/memmap-type\/v5 /m);
    expect(text).toMatch(/^Tested-by: Test Reviewer <reviewer@example\.org>$/m);
    expect(json.testedBy).toBe('Test Reviewer <reviewer@example.org>');
  });
});

describe('review of a series that does not apply', () => {
  it('exits 3 naming the patch, the file and the hunk', async () => {
    const mbox = join(scratch, 'v6-broken.mbx');
    // A context line of 0004's SRAT hunk that 10.2.2 does not have: no fuzz can place the hunk.
    await writeV6Mbox(mbox, (name, text) => (name.startsWith('0004-') ? text.replace('         /* Cut out the 640K hole */', '         /* Cut out the 1M hole */') : text));
    expect(await readFile(mbox, 'utf8')).toContain('/* Cut out the 1M hole */');
    const result = await review(mbox, '--against', 'v5', '--results', join(scratch, 'broken-results'));
    expect(result.exitCode, result.stderr).toBe(3);
    const last = result.stderr.trim().split('\n').pop() ?? '';
    expect(last).toMatch(/^memmap-harness: patch 0004-numa-memmap-type-requires-memdev-leave-reserved-node[^ ]*\.patch does not apply to .*hw\/i386\/acpi-build\.c: hunk #1 \(line \d+\) does not fit/);
    // Nothing ran: no review was written.
    await expect(readFile(join(scratch, 'broken-results', 'review.md'))).rejects.toThrow();
  }, scaledMs(1_200_000));
});
