import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { diffRecords, differenceLines } from '../../harness/compare/diff.ts';
import { readReportFile, recordsFromReport, ReportFileError, type CaseRecord } from '../../harness/compare/records.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * The behaviour diff on report rows of real runs (test/fixtures/compare/: v5
 * and v6 of our series, the seed's reserved and spm cases and two refusals).
 */

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'compare');
const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const names = { a: 'v5', b: 'v6' };

const v5 = () => readReportFile(join(DIR, 'v5.report.json'));
const v6 = () => readReportFile(join(DIR, 'v6.report.json'));
const v5Observed = async () => (await readReportFile(join(DIR, 'v5.observed-only.json'))).map((r) => ({ ...r, judged: false as const }));
const only = (records: CaseRecord[], name: string) => records.filter((r) => r.name === name);

describe('report rows', () => {
  it('reads every case row of a real report, addresses as bigints and what the run observed', async () => {
    const rows = await v6();
    expect(rows.map((r) => r.name)).toEqual(['seed-reserved', 'seed-spm', 'negative-memmap-type-bogus', 'negative-memmap-type-without-memdev']);
    const reserved = rows[0] as CaseRecord;
    expect(reserved.profile).toBe('v6');
    expect(reserved.e820.find((e) => e.start === 0x280000000n)).toMatchObject({ end: 0x47fffffffn, type: 2 });
    expect(reserved.observed?.qmp?.nodes.map((n) => n.size)).toEqual([8n << 30n, 8n << 30n]);
    expect(reserved.observed?.guest?.nodeMemTotal.find((n) => n.node === 1)?.bytes).toBe(0n);
    expect(rows[3]?.observed?.refusal).toMatchObject({ refused: true, message: expect.stringContaining('requires memdev') });
  });

  it('refuses a report whose rows are not what a run writes, naming the field', () => {
    const json = JSON.parse(readFileSync(join(DIR, 'v6.report.json'), 'utf8'));
    json.cases[0].srat[1].start = 'not an address';
    expect(() => recordsFromReport(json, 'bad.json')).toThrow(ReportFileError);
    expect(() => recordsFromReport(json, 'bad.json')).toThrow(/bad\.json: cases\[0\]\.srat\[1\]\.start must be an address/);
    expect(() => recordsFromReport({ cases: [{ ...json.cases[0], status: 'great' }] }, 'x.json')).toThrow(/'great' is not a verdict/);
    expect(() => recordsFromReport([], 'x.json')).toThrow(/must be an object/);
  });
});

describe('diffRecords on v5 against v6', () => {
  it("seed-reserved: the SRAT entry of the reserved node is v5's alone, and nothing else differs", async () => {
    const diffs = diffRecords(only(await v5(), 'seed-reserved'), only(await v6(), 'seed-reserved'));
    expect(differenceLines(diffs, names)).toEqual(['seed-reserved [q35, qboot, bookworm-6.1]: SRAT entry pxm 1 [0x280000000-0x47fffffff] present in v5, absent in v6']);
    expect(diffs[0]).toMatchObject({ aspect: 'srat', side: 'a' });
    // The other direction names the other side.
    expect(differenceLines(diffRecords(only(await v6(), 'seed-reserved'), only(await v5(), 'seed-reserved')), { a: 'v6', b: 'v5' })).toEqual([
      'seed-reserved [q35, qboot, bookworm-6.1]: SRAT entry pxm 1 [0x280000000-0x47fffffff] present in v5, absent in v6',
    ]);
  });

  it('seed-spm: v6 changes nothing the guest or QMP sees for a memdev-backed spm node', async () => {
    expect(diffRecords(only(await v5(), 'seed-spm'), only(await v6(), 'seed-spm'))).toEqual([]);
  });

  it("v6's memdev refusal, which v5 does not make (its run observed only), is a refusal row; not a verdict", async () => {
    const diffs = diffRecords([...(await v5()), ...(await v5Observed())], await v6());
    const refusal = diffs.filter((d) => d.case === 'negative-memmap-type-without-memdev');
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatchObject({ aspect: 'refusal', side: 'b' });
    expect(differenceLines(refusal, names)[0]).toMatch(/^negative-memmap-type-without-memdev \[q35, qboot, bookworm-6\.1\]: refusal ".*requires memdev" in v6; v5: started \(accepted the configuration\)$/);
    // Without the observation, v6's run stands alone: a coverage row.
    const alone = diffRecords(await v5(), await v6()).filter((d) => d.case === 'negative-memmap-type-without-memdev');
    expect(alone).toMatchObject([{ aspect: 'coverage', side: 'b' }]);
  });

  it('a report against itself: no differences in any aspect', async () => {
    expect(diffRecords(await v6(), await v6())).toEqual([]);
    expect(diffRecords(await v5(), await v5())).toEqual([]);
  });

  it('guest and QMP aspects: a real row with the reserved node onlined and its memdev grown differs there, as rows', async () => {
    const [reserved] = only(await v6(), 'seed-reserved');
    if (!reserved?.observed?.guest || !reserved.observed.qmp) throw new Error('fixture lacks the observed guest view');
    const changed: CaseRecord = {
      ...reserved,
      observed: {
        ...reserved.observed,
        guest: { ...reserved.observed.guest, nodeMemTotal: reserved.observed.guest.nodeMemTotal.map((n) => (n.node === 1 ? { ...n, bytes: 8n << 30n } : n)), dax: [{ targetNode: 1, size: 8n << 30n }] },
        qmp: { ...reserved.observed.qmp, memdevs: reserved.observed.qmp.memdevs.map((m) => (m.id === 'm1' ? { ...m, size: 4n << 30n } : m)) },
      },
    };
    const lines = differenceLines(diffRecords([reserved], [changed]), names);
    expect(lines).toEqual([
      'seed-reserved [q35, qboot, bookworm-6.1]: DAX device on node 1 (8 GiB) present in v6, absent in v5',
      'seed-reserved [q35, qboot, bookworm-6.1]: node 1 has memory online present in v6, absent in v5',
      'seed-reserved [q35, qboot, bookworm-6.1]: memdev m1 8 GiB present in v5, absent in v6',
      'seed-reserved [q35, qboot, bookworm-6.1]: memdev m1 4 GiB present in v6, absent in v5',
    ]);
  });

  it('the same difference on several firmware is one row naming them all', async () => {
    const [a] = only(await v5(), 'seed-reserved');
    const [b] = only(await v6(), 'seed-reserved');
    if (!a || !b) throw new Error('fixture lacks seed-reserved');
    const on = (r: CaseRecord, firmware: string) => ({ ...r, firmware });
    const lines = differenceLines(diffRecords([a, on(a, 'ovmf-sid')], [b, on(b, 'ovmf-sid')]), names);
    expect(lines).toEqual(['seed-reserved [q35, qboot|ovmf-sid, bookworm-6.1]: SRAT entry pxm 1 [0x280000000-0x47fffffff] present in v5, absent in v6']);
  });
});

describe('compare on two saved reports (nothing boots)', () => {
  it('prints the rows and exits 0: differences are information', async () => {
    const result = await execa('node', [CLI, 'compare', join(DIR, 'v5.report.json'), join(DIR, 'v6.report.json'), '--json'], { reject: false, timeout: scaledMs(60_000) });
    expect(result.exitCode, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { differenceLines: string[]; exitStatus: number };
    expect(json.exitStatus).toBe(0);
    expect(json.differenceLines).toContain(`seed-reserved [q35, qboot, bookworm-6.1]: SRAT entry pxm 1 [0x280000000-0x47fffffff] present in ${join(DIR, 'v5.report.json')}, absent in ${join(DIR, 'v6.report.json')}`);
  }, scaledMs(60_000));

  it('a report with a failed case makes it exit 1', async () => {
    const json = JSON.parse(readFileSync(join(DIR, 'v6.report.json'), 'utf8'));
    json.cases[1].status = 'fail';
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'compare-test-'));
    try {
      await writeFile(join(dir, 'failed.json'), JSON.stringify(json));
      const result = await execa('node', [CLI, 'compare', join(DIR, 'v5.report.json'), join(dir, 'failed.json')], { reject: false, timeout: scaledMs(60_000) });
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stdout).toMatch(/seed-spm \[q35, qboot, bookworm-6\.1\]: verdict: pass in .*v5\.report\.json, fail in .*failed\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, scaledMs(60_000));
});
