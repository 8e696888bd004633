import { execa } from 'execa';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Offline after the first run: with the network really cut (a network
// namespace of its own: no interface but a downed loopback, no DNS), a warm
// `npm start` still passes, because a run whose inputs are all cached never
// touches the network. And `--offline` on an empty cache fails in one line
// instead of trying to download.
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-offline-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

const withoutNetwork = (command: string[], env: Record<string, string> = {}) =>
  execa('unshare', ['--net', '--', ...command], { cwd: REPO_ROOT, reject: false, all: true, env, timeout: scaledMs(20 * 60_000) });

describe('without a network', () => {
  it('the network is really cut in the namespace', async () => {
    const probe = await withoutNetwork(['getent', 'hosts', 'localhost.invalid']);
    expect(probe.exitCode).not.toBe(0);
    const links = await withoutNetwork(['cat', '/proc/net/dev']);
    expect(links.stdout.split('\n').slice(2).map((l) => l.trim().split(':')[0])).toEqual(['lo']);
  });

  it('a warm npm start passes (the README command: setup, build check, default cases)', async () => {
    const start = await withoutNetwork(['npm', 'start', '--', '--results', join(work, 'start')]);
    expect(start.all).toMatch(/setup-debian: all packages present/);
    expect(start.all).toMatch(/^PASS\s+seed-spm/m);
    expect(start.exitCode, start.all).toBe(0);
    expect(await readdir(join(work, 'start'))).toContain('report.json');
  });

  it('--offline with nothing cached says so in one line and downloads nothing', async () => {
    const cache = join(work, 'empty-cache');
    const run = await withoutNetwork(['node', 'bin/memmap-harness.js', '--offline', 'run', '--case', 'seed-normal', '--results', join(work, 'cold')], { XDG_CACHE_HOME: cache });
    expect(run.exitCode).toBe(3);
    // Progress lines may come first; the error is one line, the last, and nothing else looks like one.
    const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines.at(-1)).toMatch(/^memmap-harness: offline \(MEMMAP_HARNESS_OFFLINE=1\) and no package lists are cached; run once with the network to fill the cache$/);
    expect(lines.filter((l) => /error|Error|at .*\.ts:\d+/.test(l))).toEqual([]);
    expect(await readdir(cache, { recursive: true }).then((entries) => entries.filter((e) => e.endsWith('.deb') || e.endsWith('.tar.xz')))).toEqual([]);
  });
});
