/**
 * Checks of the layers below the kernel's printout: QEMU's own E820 table
 * (fw_cfg etc/e820, aspect `fw_cfg`) and its raw SRAT (aspect `acpi`) against
 * the model's QemuTables; the passage from QEMU's table to the kernel's rows;
 * and, for a failing case, the first layer where reality left the model.
 */
import { e820Kind, LAYERS, LAYER_WORDS, layerOf, type AcpiSratEntry, type E820Row, type Finding, type Layer } from '../core/vocabulary.ts';
import type { LayerRead } from '../parse/layers.ts';
import type { SerialLog } from '../parse/log.ts';
import type { SratMemoryAffinity, SratTable } from '../parse/tables/srat.ts';
import { flagWords } from '../parse/tables/srat.ts';
import type { ExpectedSratMemory, QemuTables } from '../model/qemu-tables.ts';
import { FOUR_GIB } from '../util/constants.ts';
import { paddedRangeText, rangeText } from '../core/range-text.ts';
import { hex } from '../util/size.ts';
import { compareHmat, HMAT_CHECK } from './hmat.ts';
import { diffRows, formatRowChanges } from '../core/row-changes.ts';
import { without } from '../util/multiset.ts';

/** What the layer checks give a verdict. */
export interface LayerOutcome {
  findings: Finding[];
  /** Layers that could not be checked, and why: shown, never counted as a pass. */
  notes: string[];
  fwCfgE820?: E820Row[];
  acpiSrat?: AcpiSratEntry[];
  passage: string[];
}

/**
 * Checks QEMU's tables as the guest read them against `expected`; `unknown`
 * says why there is no expectation (a QEMU of unknown revision);
 * `beforeInit` why the guest did not run the guest program (a tables-only case whose
 * kernel panicked after its firmware-table lines, or one stopped there on
 * purpose): a note then.
 */
export function checkLayers(expected: QemuTables | undefined, unknown: string | undefined, log: SerialLog, beforeInit?: string): LayerOutcome {
  const { fwCfgE820, srat } = log.layers;
  const out: LayerOutcome = { findings: [], notes: [], passage: [] };
  if (beforeInit !== undefined && !log.guest.initStarted) {
    out.notes.push(`fw_cfg, acpi: not read: the guest stopped before init (${beforeInit}), after the kernel's firmware-table lines`);
    // The kernel's lines are in and checked; below them nothing was read, so nothing is compared.
    return out;
  }
  if (fwCfgE820.state === 'read') out.fwCfgE820 = fwCfgE820.value;
  if (srat.state === 'read') out.acpiSrat = srat.value.memory.map(toEntry);
  if (expected === undefined) {
    out.notes.push(`fw_cfg, acpi: not checked: ${unknown ?? 'no model of QEMU\'s tables for this configuration'}`);
  } else {
    out.findings.push(...layerFinding('fw_cfg', "QEMU's etc/e820 entries (fw_cfg)", fwCfgE820, out.notes, (rows) => checkFwCfg(expected.fwCfgE820, rows)));
    if (expected.srat === undefined) out.findings.push(noSrat(srat));
    else {
      const wanted = expected.srat;
      out.findings.push(...layerFinding('acpi', 'SRAT memory affinity structures (PXM, range, flags)', srat, out.notes, (table) => checkSrat(wanted, table)));
    }
    const hmat = expected.hmat;
    if (hmat !== undefined) out.findings.push(...layerFinding('acpi', HMAT_CHECK, log.layers.hmat, out.notes, (table) => compareHmat(hmat, table)));
  }
  if (out.fwCfgE820) out.passage.push(...passage(out.fwCfgE820, log));
  return out;
}

type Check = Pick<Finding, 'ok' | 'detail' | 'rows'>;

function layerFinding<T>(aspect: 'fw_cfg' | 'acpi', check: string, read: LayerRead<T>, notes: string[], compare: (value: T) => Check): Finding[] {
  switch (read.state) {
    case 'read':
      return [{ aspect, layer: aspect, check, ...compare(read.value) }];
    case 'unavailable':
      // Not this QEMU's fault nor a pass: the kernel cannot show the layer.
      notes.push(`${aspect}: ${read.why}`);
      return [];
    default:
      return [{ aspect, layer: aspect, check, ok: false, detail: [`  ${read.why}`] }];
  }
}

function checkFwCfg(expected: readonly E820Row[], actual: readonly E820Row[]): Check {
  const sorted = [...actual].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const changes = diffRows(expected, sorted);
  return changes.length === 0 ? { ok: true, detail: [] } : { ok: false, detail: formatRowChanges(changes), rows: changes };
}

function checkSrat(expected: readonly ExpectedSratMemory[], table: SratTable): Check {
  const wanted = expected.map(sratText).sort();
  const actual = table.memory.map(sratText).sort();
  const missing = without(wanted, actual);
  const extra = without(actual, wanted);
  if (missing.length === 0 && extra.length === 0) return { ok: true, detail: [] };
  return { ok: false, detail: [...missing.map((t) => `  - missing        ${t}`), ...extra.map((t) => `  + extra          ${t}`)] };
}

function noSrat(read: LayerRead<SratTable>): Finding {
  const check = 'no SRAT (QEMU builds none without NUMA nodes)';
  if (read.state === 'absent') return { aspect: 'acpi', layer: 'acpi', check, ok: true, detail: [] };
  if (read.state === 'read') return { aspect: 'acpi', layer: 'acpi', check, ok: false, detail: [`  the guest has an SRAT with ${read.value.memory.length} memory affinity structures`] };
  return { aspect: 'acpi', layer: 'acpi', check, ok: false, detail: [`  ${read.why}`] };
}

/** One structure in words: `PXM 1 [0x…-0x…] enabled` or `PXM 0 zero-length disabled`. */
export function sratText(e: Pick<SratMemoryAffinity, 'pxm' | 'start' | 'length' | 'end'> & { flags: { enabled: boolean; hotpluggable: boolean; nonVolatile: boolean } }): string {
  const where = e.end === undefined ? `zero-length at ${hex(e.start)}` : `[${paddedRangeText({ start: e.start, end: e.end })}]`;
  return `PXM ${e.pxm} ${where} ${flagWords({ ...e.flags, raw: 0 })}`;
}

function toEntry(m: SratMemoryAffinity): AcpiSratEntry {
  const { enabled, hotpluggable, nonVolatile } = m.flags;
  return { pxm: m.pxm, start: m.start, length: m.length, ...(m.end === undefined ? {} : { end: m.end }), flags: { enabled, hotpluggable, nonVolatile } };
}

/**
 * What happened to QEMU's entries at or above 4 GiB on their way to the
 * kernel's BIOS-e820 rows (below 4 GiB every firmware draws its own map):
 * kept, retyped, dropped, or merged/trimmed. Only the changes are listed.
 */
export function passage(qemu: readonly E820Row[], log: SerialLog): string[] {
  if (log.e820.length === 0) return [];
  const kernel = log.e820;
  const lines: string[] = [];
  for (const row of qemu.filter((r) => r.start >= FOUR_GIB)) {
    const where = rangeText(row);
    const same = kernel.find((k) => k.start === row.start && k.end === row.end);
    if (same && same.type === row.type) continue;
    if (same) {
      lines.push(`firmware: QEMU's etc/e820 has ${e820Kind(row.type)} at ${where}; the kernel got ${e820Kind(same.type)} there`);
      continue;
    }
    const overlapping = kernel.filter((k) => k.start <= row.end && row.start <= k.end);
    if (overlapping.length === 0) lines.push(`firmware: QEMU's etc/e820 has ${e820Kind(row.type)} at ${where}; not in the kernel's BIOS-e820 (the firmware dropped it)`);
    else lines.push(`firmware: QEMU's etc/e820 has ${e820Kind(row.type)} at ${where}; the kernel's BIOS-e820 has ${overlapping.map((k) => `${e820Kind(k.type)} at ${rangeText(k)}`).join(', ')} (merged or trimmed by the firmware or the kernel)`);
  }
  return lines;
}

/**
 * The first layer (qmp → fw_cfg → acpi → firmware → guest) with a failed
 * check, and a sentence saying what the layers show; undefined when nothing
 * failed. `ignore` names checks that are not about the layers (KVM unverified).
 */
export function divergence(findings: readonly Finding[], passageLines: readonly string[], ignore: readonly string[] = []): { layer: Layer; says: string } | undefined {
  const failed = findings.filter((f) => !f.ok && !ignore.includes(f.check));
  const layer = LAYERS.find((l) => failed.some((f) => (f.layer ?? layerOf(f.aspect)) === l));
  if (layer === undefined) return undefined;
  const first = failed.find((f) => (f.layer ?? layerOf(f.aspect)) === layer) as Finding;
  const checkedBelow = (aspect: 'fw_cfg' | 'acpi') => findings.some((f) => f.aspect === aspect);
  let says = `first wrong at ${LAYER_WORDS[layer]}: ${first.aspect}: ${first.check}`;
  if (layer === 'firmware' && checkedBelow('fw_cfg')) {
    const held = ['fw_cfg', 'acpi'].filter((a) => checkedBelow(a as 'fw_cfg' | 'acpi')).join(' and ');
    says += `; QEMU's own tables (${held}) hold, so the firmware or the kernel changed them${passageLines.length ? `: ${passageLines.map((l) => l.replace(/^firmware: /, '')).join('; ')}` : ''}`;
  } else if (layer === 'fw_cfg' || layer === 'acpi') {
    says += ': QEMU built the wrong table';
  }
  return { layer, says };
}
