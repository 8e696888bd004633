import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCase } from '../../harness/case/load.ts';
import { statedExpectations } from '../../harness/case/on-firmware.ts';
import type { Expectations } from '../../harness/case/types.ts';
import { checkExpectations } from '../../harness/check/check.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { toJunitXml } from '../../harness/report/junit.ts';
import { toMarkdown } from '../../harness/report/markdown.ts';
import { renderMemoryMap } from '../../harness/report/svg.ts';
import { statusOf, type Verdict } from '../../harness/core/vocabulary.ts';
import { writeReports } from '../../harness/report/write-all.ts';

/*
 * Verdicts from real data: real serial captures (test/fixtures/serial) parsed
 * by the real parser and judged by the real checker against real case files.
 * The ovmf-sid q35 capture is the unpatched "normal" map, so seed-spm's
 * expectations fail on it (node 1 should be soft reserved) and seed-normal's
 * pass; the pc capture has pc's 3 GiB low memory, so q35 rows fail there.
 */
const FIXTURES = new URL('../fixtures/serial/', import.meta.url);
const CASES = new URL('../../cases/', import.meta.url);
const OVMF_Q35 = 'bookworm-6.1-ovmf-sid-q35-two-node.log';
const SEABIOS_PC = 'bookworm-6.1-seabios-bookworm-pc-two-node.log';
const FAILING_CELL = 'patched-v5.q35.ovmf-sid.bookworm-6.1';

async function fromFixture(caseName: string, file: string, cell: { machine: string; firmware: string; qemu?: string }): Promise<Verdict> {
  const spec = await loadCase(new URL(`${caseName}.json`, CASES).pathname);
  const { expect: all, variantReason } = statedExpectations(spec, cell.firmware);
  // No QMP session here: check what the serial log can prove.
  const expect: Expectations = { e820: all.e820, srat: all.srat, guest: all.guest };
  const serialLog = new URL(file, FIXTURES).pathname;
  const log = parseSerialLog(readFileSync(serialLog, 'utf8'));
  const findings = checkExpectations(expect, { log });
  return {
    name: caseName,
    status: statusOf(findings),
    machine: cell.machine,
    firmware: cell.firmware,
    kernel: 'bookworm-6.1',
    qemu: cell.qemu ?? 'patched-v5',
    firmwareVariant: variantReason,
    findings,
    e820: log.e820,
    srat: log.srat,
    serialLog,
    durationMs: 15_234,
  };
}

// The reason a baseline QEMU gave in a real run (results/…/report.json), prefix doubled as older runs wrote it.
const UNSUPPORTED: Verdict = {
  name: 'explicit-normal',
  status: 'unsupported',
  reason: "patch not applied: patch not applied: QEMU rejects -numa memmap-type (qemu-system-x86_64: -numa node,nodeid=0,memdev=m0,memmap-type=normal: Invalid parameter 'memmap-type')",
  machine: 'q35',
  firmware: 'ovmf-sid',
  kernel: 'bookworm-6.1',
  qemu: 'baseline',
  findings: [],
  e820: [],
  srat: [],
  durationMs: 59,
};

// Markup characters, quotes and bytes XML 1.0 cannot carry (NUL, ESC from a terminal colour code).
const NASTY = `QEMU refused to start: -object memory-backend-file,mem-path=/tmp/a<b>&"c'd\u0000\u001b[31m|x`;
const ERROR: Verdict = { ...UNSUPPORTED, name: 'seed-reserved', status: 'error', reason: NASTY, serialLog: `/tmp/r&d/<x>"y'.serial.log`, durationMs: 1_500 };

let failing: Verdict;
let passing: Verdict;
let pcFailing: Verdict;
let verdicts: Verdict[];

beforeAll(async () => {
  failing = await fromFixture('seed-spm', OVMF_Q35, { machine: 'q35', firmware: 'ovmf-sid' });
  passing = await fromFixture('seed-normal', OVMF_Q35, { machine: 'q35', firmware: 'ovmf-sid' });
  pcFailing = await fromFixture('seed-normal', SEABIOS_PC, { machine: 'pc', firmware: 'seabios-bookworm' });
  verdicts = [failing, passing, pcFailing, UNSUPPORTED, ERROR];
});

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', parseTagValue: false, parseAttributeValue: false, trimValues: false });

type XmlNode = { [key: string]: unknown };

/** Every element named `tag` anywhere below `node`, in document order. */
function elements(node: unknown, tag: string): XmlNode[] {
  if (Array.isArray(node)) return node.flatMap((n) => elements(n, tag));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node as XmlNode).flatMap(([key, value]) => {
    const own = key === tag ? [value].flat().map((v) => (typeof v === 'object' && v !== null ? (v as XmlNode) : { '#text': v })) : [];
    return [...own, ...elements(value, tag)];
  });
}

function textOf(node: XmlNode): string {
  return String(node['#text'] ?? '');
}

function parseWellFormed(xml: string): XmlNode {
  expect(XMLValidator.validate(xml)).toBe(true);
  return parser.parse(xml) as XmlNode;
}

describe('the real inputs', () => {
  it('are what the tests below assume', () => {
    expect(failing.status).toBe('fail');
    expect(passing.status).toBe('pass');
    expect(pcFailing.status).toBe('fail');
    const e820 = failing.findings.find((f) => f.aspect === 'e820');
    expect(e820?.rows?.map((r) => r.change)).toEqual(['changed bounds', 'missing']);
    expect(pcFailing.findings.find((f) => f.aspect === 'srat')?.rows?.length).toBeGreaterThan(0);
  });
});

describe('JUnit XML', () => {
  it('is well-formed, one testsuite per cell and one testcase per case × cell', () => {
    const doc = parseWellFormed(toJunitXml(verdicts));
    const suites = elements(doc, 'testsuite');
    expect(suites.map((s) => s['@name'])).toEqual([FAILING_CELL, 'patched-v5.pc.seabios-bookworm.bookworm-6.1', 'baseline.q35.ovmf-sid.bookworm-6.1']);
    const cases = elements(doc, 'testcase');
    expect(cases).toHaveLength(5);
    expect(cases.map((c) => `${c['@classname']}/${c['@name']}`)).toContain(`${FAILING_CELL}/seed-spm`);
    const root = elements(doc, 'testsuites')[0];
    expect([root?.['@tests'], root?.['@failures'], root?.['@errors'], root?.['@skipped']]).toEqual(['5', '2', '1', '1']);
  });

  it('puts the changed row into the failure text, and times in seconds', () => {
    const doc = parseWellFormed(toJunitXml([failing]));
    const testcase = elements(doc, 'testcase')[0] as XmlNode;
    expect(testcase['@time']).toBe('15.234');
    const failure = elements(testcase, 'failure')[0] as XmlNode;
    expect(failure['@message']).toContain('e820: BIOS-e820 rows at or above 4 GiB');
    expect(textOf(failure)).toContain('missing        [0x0000000280000000-0x000000047fffffff] soft reserved (type 0xEFFFFFFF) (8 GiB)');
    expect(textOf(failure)).toContain('changed bounds expected [0x0000000100000000-0x000000027fffffff]');
    expect(textOf(elements(testcase, 'system-out')[0] as XmlNode)).toBe(`serial log: ${failing.serialLog}`);
  });

  it('reports unsupported as skipped, saying it is not a pass', () => {
    const doc = parseWellFormed(toJunitXml([UNSUPPORTED]));
    const skipped = elements(doc, 'skipped')[0] as XmlNode;
    expect(skipped['@message']).toMatch(/^unsupported: patch not applied \(not a pass\): QEMU rejects -numa memmap-type/);
    expect(skipped['@message']).not.toContain('patch not applied: patch not applied');
    expect(elements(doc, 'failure')).toHaveLength(0);
  });

  it('escapes markup and quotes and drops characters XML 1.0 forbids', () => {
    const xml = toJunitXml([ERROR]);
    expect(xml).not.toMatch(/[\u0000\u001b]/);
    const doc = parseWellFormed(xml);
    const error = elements(doc, 'error')[0] as XmlNode;
    const expected = NASTY.replace(/[\u0000\u001b]/g, '');
    expect(error['@message']).toBe(expected);
    expect(textOf(elements(doc, 'system-out')[0] as XmlNode)).toBe(`serial log: ${ERROR.serialLog}`);
  });
});

describe('Markdown summary', () => {
  it('has the counts, and one table row per case × cell', () => {
    const md = toMarkdown(verdicts);
    expect(md).toContain('**5 case runs**: 1 passed, 2 failed, 1 errors, 1 unsupported');
    const overview = md.split('\n').filter((line) => /^\| \*\*(PASS|FAIL|ERROR|UNSUPPORTED)\*\* \|/.test(line));
    expect(overview).toHaveLength(5);
    expect(overview[0]).toBe('| **FAIL** | seed-spm | q35 | ovmf-sid | bookworm-6.1 | patched-v5 | 15.2 s |');
  });

  it('shows each failure as an expected-vs-actual table of rows with human sizes and E820 types', () => {
    const md = toMarkdown([failing]);
    const section = md.slice(md.indexOf(`### FAIL: seed-spm on \`${FAILING_CELL}\``));
    expect(section).toContain('#### e820: BIOS-e820 rows at or above 4 GiB');
    expect(section).toContain('| **missing** | `0x0000000280000000-0x000000047fffffff` | 8 GiB | soft reserved (type 0xEFFFFFFF) | - | - | - |');
    expect(section).toContain(
      '| **changed bounds** | `0x0000000100000000-0x000000027fffffff` | 6 GiB | usable (type 1) | `0x0000000100000000-0x000000047fffffff` | 14 GiB | usable (type 1) |',
    );
    // Checks without row data keep their detail lines, verbatim, in a code block.
    expect(section).toContain('#### guest: DAX devices\n\n```text\n  expected: target node 1, 8 GiB\n  actual:   (none)\n```');
    expect(section).toContain(`serial log: \`${failing.serialLog}\``);
  });

  it('gives SRAT differences a node column', () => {
    const md = toMarkdown([pcFailing]);
    expect(md).toContain('#### srat: SRAT memory affinity rows');
    expect(md).toMatch(/\| \*\*changed bounds\*\* \| `0x0000000000100000-0x000000007fffffff` \| 2047 MiB \| node 0 PXM 0 \| `0x0000000000100000-0x00000000bfffffff` \| 3071 MiB \| node 0 PXM 0 \|/);
  });

  it('escapes | and markup in cells so a row keeps its seven columns', () => {
    const md = toMarkdown([{ ...ERROR, name: 'odd|name', qemu: '<cache>/qemu|x' }]);
    const row = md.split('\n').find((line) => line.startsWith('| **ERROR**')) ?? '';
    expect(row.split(/(?<!\\)\|/).slice(1, -1)).toHaveLength(7);
    expect(row).toContain('odd\\|name');
    expect(row).toContain('\\<cache\\>/qemu\\|x');
    expect(md).toContain('### ERROR: odd\\|name');
  });
});

describe('SVG memory map', () => {
  it('is well-formed and draws one row per E820 and SRAT range when expected equals actual', () => {
    const svg = parseWellFormed(renderMemoryMap(passing));
    const rows = elements(svg, 'g').filter((g) => String(g['@class']).startsWith('row'));
    expect(rows).toHaveLength(passing.e820.length + passing.srat.length);
    const titles = rows.map((g) => textOf(elements(g, 'title')[0] as XmlNode));
    for (const e of passing.e820) expect(titles.some((t) => t.startsWith(`E820: [${hex16(e.start)}-${hex16(e.end)}]`))).toBe(true);
    expect(titles).toContain('SRAT: [0x0000000280000000-0x000000047fffffff] node 1 PXM 1, 8 GiB');
    expect(elements(svg, 'rect').length).toBeGreaterThanOrEqual(rows.length);
    expect(rows.every((g) => g['@class'] === 'row')).toBe(true);
  });

  it('has a legend with soft reserved, and labels real addresses on the axis', () => {
    const svg = parseWellFormed(renderMemoryMap(passing));
    const legend = elements(svg, 'g').filter((g) => g['@class'] === 'legend').map((g) => textOf(elements(g, 'text')[0] as XmlNode));
    expect(legend).toEqual(expect.arrayContaining(['usable', 'reserved', 'soft reserved', 'ACPI data', 'ACPI NVS']));
    const texts = elements(svg, 'text').map(textOf);
    expect(texts).toEqual(expect.arrayContaining(['0x280000000', '0x480000000', '0xfd00000000', '0x10000000000', 'hole · 994 GiB']));
  });

  it('draws expected and actual side by side on a failure, outlining the rows that differ', () => {
    const svg = parseWellFormed(renderMemoryMap(failing));
    const titles = elements(svg, 'text').filter((t) => t['@font-weight'] === 'bold').map(textOf);
    expect(titles).toEqual(expect.arrayContaining(['E820 expected', 'E820 actual', 'SRAT']));
    const differs = elements(svg, 'g').filter((g) => g['@class'] === 'row differs');
    expect(differs.map((g) => textOf(elements(g, 'title')[0] as XmlNode))).toEqual([
      'E820 expected: [0x0000000100000000-0x000000027fffffff] usable (type 1), 6 GiB',
      'E820 expected: [0x0000000280000000-0x000000047fffffff] soft reserved (type 0xEFFFFFFF), 8 GiB',
      'E820 actual: [0x0000000100000000-0x000000047fffffff] usable (type 1), 14 GiB',
    ]);
    // The expected column is the whole map: the rows below 4 GiB, out of the check's scope, are drawn in both.
    const rows = elements(svg, 'g').filter((g) => String(g['@class']).startsWith('row'));
    expect(rows).toHaveLength(failing.e820.length + 1 + failing.e820.length + failing.srat.length);
  });

  it('doubles the SRAT column too when SRAT differs', () => {
    const svg = renderMemoryMap(pcFailing);
    parseWellFormed(svg);
    expect(svg).toContain('>SRAT expected<');
    expect(svg).toContain('>SRAT actual<');
  });

  it('takes whole expected tables when given, and stays single-column when they match', () => {
    expect(renderMemoryMap(passing, { e820: passing.e820 })).not.toContain('E820 expected');
    const moved = passing.e820.map((e) => (e.start === 0x100000000n ? { ...e, type: 0xefffffff } : e));
    const svg = renderMemoryMap(passing, { e820: moved });
    expect(svg).toContain('>E820 expected<');
    expect(svg.match(/class="row differs"/g)).toHaveLength(2);
  });

  it('renders a run without rows, and keeps hostile text well-formed', () => {
    const svg = renderMemoryMap(UNSUPPORTED);
    parseWellFormed(svg);
    expect(svg).toContain('unsupported: patch not applied (not a pass)');
    const error = renderMemoryMap({ ...ERROR, name: 'a<b>&"c' });
    expect(error).not.toMatch(/[\u0000\u001b]/);
    parseWellFormed(error);
  });
});

describe('writeReports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memmap-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes report.json, junit.xml, summary.md and one svg per case run', async () => {
    const colon = { ...passing, qemu: 'patched:v5' };
    const paths = await writeReports(dir, [...verdicts, colon, colon]);
    expect(paths.json).toBe(join(dir, 'report.json'));
    expect((JSON.parse(await readFile(paths.json, 'utf8')) as { cases: unknown[] }).cases).toHaveLength(7);
    parseWellFormed(await readFile(paths.junit, 'utf8'));
    expect(await readFile(paths.markdown, 'utf8')).toContain(`memory map: \`svg/seed-spm@${FAILING_CELL}.svg\``);
    const svgs = (await readdir(join(dir, 'svg'))).sort();
    expect(svgs).toHaveLength(7);
    expect(svgs).toContain(`seed-spm@${FAILING_CELL}.svg`);
    // A label with ':' is made file-system safe; the same case twice in a cell is not overwritten.
    expect(svgs).toEqual(expect.arrayContaining(['seed-normal@patched_v5.q35.ovmf-sid.bookworm-6.1.svg', 'seed-normal@patched_v5.q35.ovmf-sid.bookworm-6.1-2.svg']));
    for (const path of paths.svg) parseWellFormed(await readFile(path, 'utf8'));
  });

  it('keeps the structured row changes in report.json, addresses as hex strings', async () => {
    const paths = await writeReports(dir, [failing]);
    const json = JSON.parse(await readFile(paths.json, 'utf8')) as { cases: { findings: { rows?: unknown[] }[] }[] };
    const rows = json.cases[0]?.findings.find((f) => f.rows)?.rows;
    expect(rows).toContainEqual({ change: 'missing', expected: { start: '0x0000000280000000', end: '0x000000047fffffff', type: 0xefffffff } });
  });
});

function hex16(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`;
}
