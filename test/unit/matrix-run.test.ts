import { describe, expect, it } from 'vitest';
import { decideJobs, perGuestBudget } from '../../harness/run/jobs.ts';
import { loadMatrix } from '../../harness/matrix/load.ts';
import { parseCellName } from '../../harness/matrix/name.ts';
import { runPool } from '../../harness/host/pool.ts';
import { createProgress, elapsed } from '../../harness/matrix/progress.ts';
import { decodeRows, encodeRows, matrixMarkdown, type MatrixMeta } from '../../harness/matrix/report.ts';
import type { MatrixRow, Outcome } from '../../harness/matrix/row.ts';

const GiB = 1n << 30n;

describe('how many guests at once', () => {
  it('one per core when memory allows, and never more than there are runs', () => {
    expect(decideJobs({ cpus: 2, freeBytes: 20n * GiB, guestBytes: 16n * GiB, runs: 100 }).jobs).toBe(2);
    expect(decideJobs({ cpus: 8, freeBytes: 64n * GiB, guestBytes: 16n * GiB, runs: 3 }).jobs).toBe(3);
  });

  it('fewer when free memory (after a reserve) does not hold a budget per guest', () => {
    const d = decideJobs({ cpus: 8, freeBytes: 7n * GiB, guestBytes: 16n * GiB, runs: 100 });
    expect(d.jobs).toBe(2);
    expect(d.why).toMatch(/8 core\(s\) → at most 8 .*7\.0 GiB free − 2\.0 GiB reserve at 2\.0 GiB per guest → at most 2/);
  });

  it('at least one, even on a starved machine', () => {
    expect(decideJobs({ cpus: 2, freeBytes: 1n * GiB, guestBytes: 16n * GiB, runs: 5 }).jobs).toBe(1);
  });

  it('budgets small guests at their RAM', () => {
    expect(perGuestBudget(512n << 20n)).toBe(512n << 20n);
    expect(perGuestBudget(16n * GiB)).toBe(2n * GiB);
  });

  it('takes --jobs as given and warns above the limits', () => {
    expect(decideJobs({ cpus: 2, freeBytes: 20n * GiB, guestBytes: 16n * GiB, runs: 100, requested: 1 })).toMatchObject({ jobs: 1 });
    expect(decideJobs({ cpus: 2, freeBytes: 20n * GiB, guestBytes: 16n * GiB, runs: 100, requested: 6 }).why).toMatch(/^--jobs 6 \(above the limits/);
  });
});

describe('the pool', () => {
  it('keeps at most N in flight and returns results in item order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await runPool([30, 5, 20, 1, 10], 2, async (ms, i) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight -= 1;
      return i * 10;
    });
    expect(results).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
  });

  it('stops starting work after a throw and rethrows once the running ones settle', async () => {
    const started: number[] = [];
    const run = runPool([1, 2, 3, 4], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('boom');
      return n;
    });
    await expect(run).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});

describe('progress', () => {
  it('without a TTY prints one line per finished run', () => {
    const out: string[] = [];
    let t = 0;
    const p = createProgress(3, { write: (s) => (out.push(s), true) }, () => t);
    p.started('a');
    p.started('b');
    t = 42_000;
    p.finished('a', 'pass', 41.6);
    t = 75_000;
    p.finished('b', 'changed', 30);
    p.stop();
    expect(out).toEqual(['[1/3] 1 running | 1 pass, 0 fail, 0 error | 42s | PASS a 42s\n', '[2/3] 0 running | 1 pass, 0 fail, 0 error, 1 CHANGED | 1m15s | CHANGED b 30s\n']);
  });

  it('on a TTY rewrites one line', () => {
    const out: string[] = [];
    const p = createProgress(1, { write: (s) => (out.push(s), true), isTTY: true, columns: 200 }, () => 0);
    p.started('a');
    p.finished('a', 'fail', 1);
    p.stop();
    expect(out.every((s) => s.startsWith('\r\x1b[K'))).toBe(true);
    expect(out.at(-1)).toBe('\r\x1b[K[1/1] 0 running | 0 pass, 1 fail, 0 error | 0s | FAIL a 1s\n');
  });

  it('formats elapsed time', () => {
    expect(elapsed(59_400)).toBe('59s');
    expect(elapsed(3_727_000)).toBe('62m07s');
  });
});

const def = await loadMatrix();

describe('reports', () => {
  const row = (cell: string, name: string, outcome: Outcome, status: MatrixRow['verdict']['status'] = outcome === 'changed' ? 'fail' : (outcome as 'pass')): MatrixRow => {
    const axes = parseCellName(cell, def.axes);
    return {
      cell,
      axes,
      case: name,
      outcome,
      expected: { summary: ['spm passed through as E820 type 0xEFFFFFFF'], tags: ['spm in E820'], reasons: [] },
      changes: outcome === 'changed' ? ['BEHAVIOUR CHANGED: firmware seabios-sid now passes soft reserved (E820 type 0xEFFFFFFF) through'] : [],
      verdict: {
        cell,
        name,
        status,
        firmware: axes.firmware,
        kernel: axes.kernel,
        machine: axes.machine,
        qemu: axes.revision,
        findings: [],
        e820: [{ start: 0x280000000n, end: 0x47fffffffn, type: 0xefffffff, label: 'soft reserved' }],
        srat: [],
        durationMs: 12_345,
        ...(outcome === 'fail' ? { reason: 'a | pipe and <tag>' } : {}),
      },
    };
  };
  const rows = [
    row('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', 'pass'),
    row('v5.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-normal', 'fail'),
    row('v5.q35.seabios-sid.bookworm-6.1.memfd.unix', 'seed-spm', 'changed'),
    row('baseline.q35.ovmf-sid.bookworm-6.1.memfd.unix', 'seed-spm', 'pass', 'unsupported'),
  ];
  const meta: MatrixMeta = { wallMs: 125_000, jobs: 2, jobsWhy: 'x', unavailable: [{ name: 'v5.q35.ovmf-sid.minimal-6.1.memfd.unix', reason: 'not built' }] };

  it('round-trips rows through JSON, 64-bit addresses included', () => {
    const back = decodeRows(encodeRows(rows, meta));
    expect(back.rows).toEqual(rows);
    expect(back.meta).toEqual(meta);
    expect(typeof back.rows[0]?.verdict.e820[0]?.end).toBe('bigint');
  });

  it('renders a grid table with one line per cell and a column per case, changes first', () => {
    const md = matrixMarkdown(def, rows, meta);
    const table = md.split('\n').filter((l) => l.startsWith('| '));
    expect(table[0]).toBe('| cell | seed-spm | seed-normal | expects |');
    const width = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (const line of table.slice(0, 5)) expect(width(line)).toBe(width(table[0] as string));
    expect(table).toContain('| `v5.q35.ovmf-sid.bookworm-6.1.memfd.unix` | ✅ pass | ❌ FAIL | spm in E820 |');
    expect(table).toContain('| `baseline.q35.ovmf-sid.bookworm-6.1.memfd.unix` | ✅ unsupported, as expected | – | spm in E820 |');
    expect(md.indexOf('Behaviour changed')).toBeLessThan(md.indexOf('| cell |'));
    expect(md).toContain('**3 cells, 4 runs**: 2 passed, 1 failed, 0 errors, 1 behaviour changes · wall time 2m05s');
    expect(md).toContain('a \\| pipe and \\<tag\\>');
    expect(md).toContain('`v5.q35.ovmf-sid.minimal-6.1.memfd.unix`: not built');
  });
});
