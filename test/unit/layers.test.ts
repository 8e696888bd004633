import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCase } from '../../harness/case/load.ts';
import { E820_TYPE, type Finding } from '../../harness/core/vocabulary.ts';
import { checkLayers, divergence, sratText } from '../../harness/check/layers.ts';
import { expectationsFor } from '../../harness/model/expectations.ts';
import { parseSerialLog } from '../../harness/parse/log.ts';
import { decodeFwCfgE820 } from '../../harness/parse/tables/fw-cfg-e820.ts';
import { parseSrat } from '../../harness/parse/tables/srat.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { iaslSrat } from './iasl.ts';

/*
 * Captures from real guests booted by the harness (test/fixtures/acpi/README.md):
 * the serial log and the raw tables the run saved beside it. Names are
 * <case>--<revision>--<firmware>--<kernel>.{serial.log,SRAT.dat,fw_cfg-e820.dat}.
 */
const DIR = join(REPO_ROOT, 'test', 'fixtures', 'acpi');
const runs = readdirSync(DIR).filter((f) => f.endsWith('.serial.log')).map((f) => f.replace(/\.serial\.log$/, '')).sort();
const read = (stem: string, suffix: string) => readFileSync(join(DIR, `${stem}.${suffix}`));
const hasFile = (stem: string, suffix: string) => readdirSync(DIR).includes(`${stem}.${suffix}`);
const partsOf = (stem: string) => {
  const [caseName, revision, firmware, kernel] = stem.split('--') as [string, string, string, string];
  return { caseName, revision, firmware, kernel };
};
const logOf = (stem: string) => parseSerialLog(readFileSync(join(DIR, `${stem}.serial.log`), 'latin1'));

async function qemuTablesOf(stem: string) {
  const { caseName, revision, firmware, kernel } = partsOf(stem);
  const spec = await loadCase(join(REPO_ROOT, 'cases', `${caseName}.json`));
  return expectationsFor(spec, { machine: spec.machine, firmware, kernel, revision });
}

describe('captures', () => {
  it('there are captures to test', () => {
    expect(runs.length).toBeGreaterThan(0);
  });
});

describe.each(runs)('%s', (stem) => {
  it('the probe printed the raw tables first, closed, with their time, nothing stray', () => {
    const { guest: probe } = logOf(stem);
    expect(probe.sections.map((x) => [x.name, x.closed])).toEqual(['fw-cfg-e820', 'acpi-SRAT', 'acpi-SLIT', 'acpi-HMAT', 'iomem', 'firmware-memmap', 'node-meminfo', 'dax', 'cmdline'].map((n) => [n, true]));
    expect(probe.tablesDone).toBe(true);
    expect(probe.tablesSeconds).toBeGreaterThanOrEqual(0);
    expect(probe.stray).toEqual([]);
    expect(probe.rawTables['acpi-SLIT']).toEqual({ state: 'absent', path: '/sys/firmware/acpi/tables/SLIT' });
  });

  it('the tables decoded from the console are the bytes saved beside the log', () => {
    const { layers } = logOf(stem);
    for (const [key, suffix] of [['srat', 'SRAT.dat'], ['fwCfgE820', 'fw_cfg-e820.dat'], ['slit', 'SLIT.dat'], ['hmat', 'HMAT.dat']] as const) {
      const layer = layers[key];
      if (hasFile(stem, suffix)) {
        expect(layer.state, `${key}: ${'why' in layer ? layer.why : ''}`).toBe('read');
        if (layer.state === 'read') expect(layer.bytes.equals(read(stem, suffix))).toBe(true);
      } else expect(layer.state).not.toBe('read');
    }
  });

  it.runIf(hasFile(stem, 'SRAT.dat'))('iasl -d and our parser read its SRAT the same', async () => {
    const bytes = read(stem, 'SRAT.dat');
    const ours = parseSrat(bytes);
    const iasl = await iaslSrat(bytes);
    expect(iasl.checksumComplaint).toBeUndefined();
    expect(iasl.memory.length).toBeGreaterThan(0);
    expect(ours.memory.map((m) => ({ pxm: m.pxm, base: m.start, length: m.length, flags: m.flags.raw, enabled: m.flags.enabled, hotpluggable: m.flags.hotpluggable, nonVolatile: m.flags.nonVolatile }))).toEqual(iasl.memory);
    expect(ours.cpus.length).toBe(iasl.cpuCount);
  });

  it('the model of QEMU\'s tables matches what the guest read (fw_cfg and acpi findings pass)', async () => {
    const expectation = await qemuTablesOf(stem);
    expect(expectation.qemuTables).toBeDefined();
    const outcome = checkLayers(expectation.qemuTables, undefined, logOf(stem));
    expect(outcome.findings.map((f) => [f.aspect, f.layer, f.ok, f.detail])).toEqual([
      ['fw_cfg', 'fw_cfg', true, []],
      ['acpi', 'acpi', true, []],
    ]);
  });
});

const SEED_SPM = runs.filter((s) => s.startsWith('seed-spm--'));

describe.each(SEED_SPM)('seed-spm: %s', (stem) => {
  it('the raw SRAT holds the seed\'s four memory ranges, enabled, not hot-pluggable', async () => {
    const spec = await loadCase(join(REPO_ROOT, 'cases', 'seed-spm.json'));
    const seedRows = spec.expect.srat ?? [];
    expect(seedRows).toHaveLength(4);
    const srat = parseSrat(read(stem, 'SRAT.dat'));
    const ranges = srat.memory.filter((m) => m.length > 0n).map((m) => [m.pxm, m.start, m.end, m.flags.enabled, m.flags.hotpluggable, m.flags.nonVolatile]);
    expect(ranges).toEqual(seedRows.map((r) => [r.pxm, r.start, r.end, true, false, false]));
  });

  it('QEMU\'s etc/e820 has 0xEFFFFFFF at 0x280000000, whatever the firmware passed on', () => {
    const rows = decodeFwCfgE820(read(stem, 'fw_cfg-e820.dat'));
    expect(rows).toContainEqual({ start: 0x280000000n, end: 0x47fffffffn, type: E820_TYPE.SOFT_RESERVED });
  });

  it('the passage to the kernel names the firmware exactly when the kernel\'s rows lack the range', () => {
    const log = logOf(stem);
    const outcome = checkLayers(undefined, 'not asked', log);
    const kernelHasIt = log.e820.some((r) => r.start === 0x280000000n && r.type === E820_TYPE.SOFT_RESERVED);
    const dropped = "firmware: QEMU's etc/e820 has soft reserved (type 0xEFFFFFFF) at 0x280000000-0x47fffffff; not in the kernel's BIOS-e820 (the firmware dropped it)";
    expect(outcome.passage).toEqual(kernelHasIt ? [] : [dropped]);
  });
});

describe('attribution: the first layer that left the model', () => {
  const stem = SEED_SPM.find((s) => s.includes('--seabios-')) as string;
  const failing = (aspect: Finding['aspect'], layer?: Finding['layer']): Finding => ({ aspect, check: `a ${aspect} check`, ok: false, detail: [], ...(layer ? { layer } : {}) });

  it.runIf(stem !== undefined)('SeaBIOS: QEMU\'s tables hold, a kernel row check fails: the firmware, with what it dropped', async () => {
    const log = logOf(stem);
    const outcome = checkLayers((await qemuTablesOf(stem)).qemuTables, undefined, log);
    const found = divergence([...outcome.findings, failing('e820'), failing('guest')], outcome.passage);
    expect(found?.layer).toBe('firmware');
    expect(found?.says).toMatch(/QEMU's own tables \(fw_cfg and acpi\) hold, so the firmware or the kernel changed them: QEMU's etc\/e820 has soft reserved \(type 0xEFFFFFFF\) at 0x280000000-0x47fffffff; not in the kernel's BIOS-e820/);
  });

  it.runIf(stem !== undefined)('a QEMU table that differs from the model is QEMU\'s layer, before the kernel\'s rows', async () => {
    const log = logOf(stem);
    const tables = (await qemuTablesOf(stem)).qemuTables;
    expect(tables).toBeDefined();
    // The model as if the spm node were normal RAM: QEMU's real table (0xEFFFFFFF) no longer matches it.
    const wrong = { ...tables!, fwCfgE820: tables!.fwCfgE820.map((r) => (r.type === E820_TYPE.SOFT_RESERVED ? { ...r, type: E820_TYPE.RAM } : r)) };
    const outcome = checkLayers(wrong, undefined, log);
    expect(outcome.findings.find((f) => f.aspect === 'fw_cfg')).toMatchObject({ ok: false, layer: 'fw_cfg' });
    const found = divergence([...outcome.findings, failing('e820')], outcome.passage);
    expect(found).toMatchObject({ layer: 'fw_cfg', says: expect.stringMatching(/QEMU built the wrong table/) });
  });

  it('the order is qmp, fw_cfg, acpi, firmware, guest; the KVM note is not a layer', () => {
    expect(divergence([failing('guest'), failing('srat'), failing('acpi')], [])?.layer).toBe('acpi');
    expect(divergence([failing('guest'), failing('qmp')], [])?.layer).toBe('qmp');
    expect(divergence([failing('refusal')], [])?.layer).toBe('qmp');
    expect(divergence([{ ...failing('e820'), check: 'unverified' }, failing('guest')], [], ['unverified'])?.layer).toBe('guest');
    expect(divergence([{ aspect: 'e820', check: 'x', ok: true, detail: [] }], [])).toBeUndefined();
  });

  it('a layer this kernel cannot show is a note, not a finding', () => {
    const log = parseSerialLog(['==== memmap-harness: init start ====', '==== memmap-harness: begin fw-cfg-e820 ====', 'unavailable no /sys/firmware/qemu_fw_cfg (kernel without CONFIG_FW_CFG_SYSFS, or qemu_fw_cfg not loaded)', '==== memmap-harness: end fw-cfg-e820 ===='].join('\r\n'));
    const outcome = checkLayers({ fwCfgE820: [] }, undefined, log);
    expect(outcome.findings.filter((f) => f.aspect === 'fw_cfg')).toEqual([]);
    expect(outcome.notes).toEqual(['fw_cfg: fw_cfg etc/e820: not available on this kernel: no /sys/firmware/qemu_fw_cfg (kernel without CONFIG_FW_CFG_SYSFS, or qemu_fw_cfg not loaded)']);
  });
});

describe('sratText', () => {
  it('words a structure as the findings show it', () => {
    expect(sratText({ pxm: 1, start: 0x280000000n, length: 0x200000000n, end: 0x47fffffffn, flags: { enabled: true, hotpluggable: false, nonVolatile: false } })).toBe('PXM 1 [0x0000000280000000-0x000000047fffffff] enabled');
    expect(sratText({ pxm: 0, start: 0n, length: 0n, flags: { enabled: false, hotpluggable: false, nonVolatile: false } })).toBe('PXM 0 zero-length at 0x0 disabled');
  });
});

describe('the SRAT flag rules in traits.json hold on captures we did not write', () => {
  const sp = runs.find((s) => s.startsWith('sp-mem-seed--upstream-11.1--'));
  it.runIf(sp !== undefined)('QEMU 11.1.3: node RAM enabled; one zero-length disabled entry (2 nodes + 2 = 4); sp-mem enabled; the rest of the device-memory window enabled and hot-pluggable', () => {
    const srat = parseSrat(read(sp as string, 'SRAT.dat'));
    expect(srat.memory.map((m) => sratText(m))).toEqual([
      'PXM 0 [0x0000000000000000-0x000000000009ffff] enabled',
      'PXM 0 [0x0000000000100000-0x000000007fffffff] enabled',
      'PXM 0 [0x0000000100000000-0x000000027fffffff] enabled',
      'PXM 0 zero-length at 0x0 disabled',
      'PXM 1 [0x0000000280000000-0x000000047fffffff] enabled',
      'PXM 1 [0x0000000480000000-0x00000006ffffffff] enabled hotpluggable',
    ]);
  });
  const baseline = runs.find((s) => s.includes('--baseline--'));
  it.runIf(baseline !== undefined)('unpatched 10.2.2: every node RAM entry enabled, nothing else', () => {
    const srat = parseSrat(read(baseline as string, 'SRAT.dat'));
    expect(srat.memory.length).toBeGreaterThan(0);
    expect(srat.memory.every((m) => m.length > 0n && m.flags.raw === 1)).toBe(true);
  });
});

describe('the SVG map shows the layers side by side', () => {
  const stem = SEED_SPM.find((s) => s.includes('--seabios-'));
  it.runIf(stem !== undefined)("SeaBIOS: QEMU's etc/e820 column beside the kernel's, its 0xEFFFFFFF row outlined, the passage in the header", async () => {
    const { renderMemoryMap } = await import('../../harness/report/svg.ts');
    const log = logOf(stem as string);
    const outcome = checkLayers((await qemuTablesOf(stem as string)).qemuTables, undefined, log);
    const svg = renderMemoryMap({ name: 'seed-spm', status: 'pass', firmware: 'seabios-bookworm', kernel: 'bookworm-6.1', machine: 'q35', qemu: 'v5', findings: outcome.findings, e820: log.e820, srat: log.srat, fwCfgE820: outcome.fwCfgE820, layerPassage: outcome.passage, durationMs: 0 });
    expect(svg).toMatch(/QEMU(&#39;|&apos;|')s etc\/e820<\/text>/);
    expect(svg).toMatch(/QEMU(&#39;|&apos;|')s etc\/e820: \[0x0000000280000000-0x000000047fffffff\] soft reserved/);
    expect(svg).toMatch(/firmware dropped it/);
    // Without a fail or a passage (qboot passes everything) there is no extra column.
    const plain = renderMemoryMap({ name: 'seed-spm', status: 'pass', firmware: 'qboot', kernel: 'bookworm-6.1', machine: 'q35', qemu: 'v5', findings: [], e820: log.e820, srat: log.srat, fwCfgE820: outcome.fwCfgE820, durationMs: 0 });
    expect(plain).not.toMatch(/s etc\/e820<\/text>/);
  });
});

describe('the kernel layer merges what QEMU kept apart', () => {
  const two = runs.find((s) => s.startsWith('sp-mem-two-nodes--upstream-11.1--'));
  it.runIf(two !== undefined)('11.1.3, two sp-mem devices back to back: two etc/e820 entries, one merged BIOS-e820 row in Linux 6.1, said in the passage', () => {
    const log = logOf(two as string);
    const soft = (rows: readonly { start: bigint; end: bigint; type: number }[]) => rows.filter((r) => r.type === E820_TYPE.SOFT_RESERVED).map((r) => [r.start, r.end]);
    expect(soft(decodeFwCfgE820(read(two as string, 'fw_cfg-e820.dat')))).toEqual([[0x280000000n, 0x37fffffffn], [0x380000000n, 0x3ffffffffn]]);
    expect(soft(log.e820)).toEqual([[0x280000000n, 0x3ffffffffn]]);
    expect(checkLayers(undefined, 'not asked', log).passage).toEqual([
      "firmware: QEMU's etc/e820 has soft reserved (type 0xEFFFFFFF) at 0x280000000-0x37fffffff; the kernel's BIOS-e820 has soft reserved (type 0xEFFFFFFF) at 0x280000000-0x3ffffffff (merged or trimmed by the firmware or the kernel)",
      "firmware: QEMU's etc/e820 has soft reserved (type 0xEFFFFFFF) at 0x380000000-0x3ffffffff; the kernel's BIOS-e820 has soft reserved (type 0xEFFFFFFF) at 0x280000000-0x3ffffffff (merged or trimmed by the firmware or the kernel)",
    ]);
  });
});

describe('reports name the layer', () => {
  it('console and Markdown show the first diverging layer, the passage and each failed finding\'s layer', async () => {
    const { formatVerdict } = await import('../../harness/report/console.ts');
    const { toMarkdown } = await import('../../harness/report/markdown.ts');
    const finding: Finding = { aspect: 'srat', layer: 'firmware', check: 'SRAT memory affinity rows', ok: false, detail: ['  - missing x'] };
    const v = { name: 'seed-reserved', status: 'fail' as const, firmware: 'qboot', kernel: 'bookworm-6.1', machine: 'q35', qemu: 'v6', findings: [finding], e820: [], srat: [], durationMs: 1, divergence: { layer: 'acpi' as const, says: 'first wrong at QEMU\'s ACPI tables (raw SRAT): acpi: SRAT memory affinity structures (PXM, range, flags): QEMU built the wrong table' }, layerPassage: ['firmware: QEMU\'s etc/e820 has x'] };
    const lines = formatVerdict(v);
    expect(lines).toContain(`    layer: ${v.divergence.says}`);
    expect(lines).toContain("    note: firmware: QEMU's etc/e820 has x");
    expect(lines).toContain('    srat (firmware): SRAT memory affinity rows');
    const md = toMarkdown([v]);
    expect(md).toContain('**First layer that left the model: acpi**');
    expect(md).toContain('#### srat (firmware): SRAT memory affinity rows');
  });
});
