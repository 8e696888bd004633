import { FOUR_GIB } from '../util/constants.ts';
import { paddedRangeText, rangeText } from '../core/range-text.ts';
import { hex } from '../util/size.ts';
import { cellOf, unsupportedMessage } from './cell.ts';
import { shortSize } from './format.ts';
import { e820Kind, e820Name, sameRow, type E820Row, type SratRow, type Verdict } from '../core/vocabulary.ts';
import { E820_COLOURS, expectedFromFindings, NODE_COLOURS, OTHER_COLOUR, type ExpectedRows } from './map-model.ts';
import { brokenScale, type BrokenScale } from './scale.ts';
import { attrs, xmlText } from './xml.ts';

/** One rectangle of a column. */
interface Bar {
  start: bigint;
  end: bigint;
  fill: string;
  label: string;
  /** The range as the kernel prints it, shown on differing rows. */
  range: string;
  tooltip: string;
  differs: boolean;
}

interface Column {
  title: string;
  width: number;
  bars: Bar[];
}

const STATUS: Record<Verdict['status'], string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', unsupported: 'UNSUPPORTED' };
const MARGIN = 16;
const AXIS_WIDTH = 118;
const E820_WIDTH = 200;
const SRAT_WIDTH = 200;
const COLUMN_GAP = 14;
const DIFF_COLOUR = '#d62728';
const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';
const MONO = 'DejaVu Sans Mono, Menlo, Consolas, monospace';
const LEGEND_TYPES = [1, 2, 0xefffffff, 3, 4, 5, 7];

/**
 * An SVG memory map of one case run: E820 ranges coloured by type, SRAT node
 * bands beside them, on a broken scale (see scale.ts) labelled with real
 * addresses. Where a failed e820/srat check says expected and actual differ,
 * both are drawn side by side and the differing rows are outlined in red.
 * `expected` replaces what the findings imply (whole tables, not a scope).
 */
export function renderMemoryMap(v: Verdict, expected?: ExpectedRows): string {
  const columns = buildColumns(v, { ...expectedFromFindings(v), ...definedParts(expected) });
  const width = Math.max(560, MARGIN * 2 + AXIS_WIDTH + columns.reduce((sum, c) => sum + c.width + COLUMN_GAP, 0));
  const head = header(v, width);
  const drawn = columns.some((c) => c.bars.length > 0);
  // Without rows (unsupported, an early error) a legend would explain nothing.
  const legend = drawn ? legendBlock(columns, head.height, width) : { parts: [], bottom: head.height };
  const mapTop = legend.bottom + 34;
  const body = drawn ? mapBody(columns, mapTop, width) : emptyBody(v, mapTop);
  const height = Math.ceil(mapTop + body.height + MARGIN);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg"${attrs({ width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': FONT, 'font-size': 11 })}>`,
    defs(),
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...head.parts,
    ...legend.parts,
    ...body.parts,
    '</svg>',
    '',
  ].join('\n');
}

function definedParts(expected: ExpectedRows | undefined): ExpectedRows {
  return { ...(expected?.e820 ? { e820: expected.e820 } : {}), ...(expected?.srat ? { srat: expected.srat } : {}) };
}

// ---- columns ---------------------------------------------------------------

function buildColumns(v: Verdict, expected: ExpectedRows): Column[] {
  return [...qemuLayer(v), ...pairOrSingle('E820', v.e820, expected.e820, e820Bars, E820_WIDTH), ...pairOrSingle('SRAT', v.srat, expected.srat, sratBars, SRAT_WIDTH)];
}

/**
 * QEMU's own table (fw_cfg etc/e820) beside the kernel's, for a failing case
 * or one whose firmware changed QEMU's rows: the layers side by side. Its
 * rows at or above 4 GiB that the kernel did not get as they were are outlined.
 */
function qemuLayer(v: Verdict): Column[] {
  if (!v.fwCfgE820 || (v.status !== 'fail' && (v.layerPassage ?? []).length === 0)) return [];
  const rows = [...v.fwCfgE820].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const bars = e820Bars(rows, v.e820, "QEMU's etc/e820").map((b, i) => ({ ...b, differs: b.differs && (rows[i] as E820Row).start >= FOUR_GIB }));
  return [{ title: "QEMU's etc/e820", width: E820_WIDTH, bars }];
}

/** One column when expected equals actual (or is unknown), else expected and actual side by side. */
function pairOrSingle<T>(
  name: string,
  actual: readonly T[],
  expected: readonly T[] | undefined,
  bars: (rows: readonly T[], other: readonly T[] | undefined, side: string) => Bar[],
  width: number,
): Column[] {
  const single: Column[] = [{ title: name, width, bars: bars(actual, undefined, name) }];
  if (expected === undefined) return single;
  const shown = bars(actual, expected, `${name} actual`);
  const expectedBars = bars(expected, actual, `${name} expected`);
  if (!shown.some((b) => b.differs) && !expectedBars.some((b) => b.differs)) return single;
  return [
    { title: `${name} expected`, width, bars: expectedBars },
    { title: `${name} actual`, width, bars: shown },
  ];
}

function e820Bars(rows: readonly E820Row[], other: readonly E820Row[] | undefined, side: string): Bar[] {
  return rows.map((r) => {
    const name = e820Name(r.type);
    const size = shortSize(r.end - r.start + 1n);
    return {
      start: r.start,
      end: r.end,
      fill: E820_COLOURS.get(r.type) ?? OTHER_COLOUR,
      label: `${name} · ${size}`,
      range: rangeText(r),
      tooltip: `${side}: [${paddedRangeText(r)}] ${e820Kind(r.type)}, ${size}`,
      differs: other !== undefined && !other.some((o) => sameRow(o, r)),
    };
  });
}

function sratBars(rows: readonly SratRow[], other: readonly SratRow[] | undefined, side: string): Bar[] {
  return rows.map((r) => {
    const size = shortSize(r.end - r.start + 1n);
    return {
      start: r.start,
      end: r.end,
      fill: NODE_COLOURS[r.node % NODE_COLOURS.length] ?? OTHER_COLOUR,
      label: `node ${r.node} · PXM ${r.pxm} · ${size}`,
      range: rangeText(r),
      tooltip: `${side}: [${paddedRangeText(r)}] node ${r.node} PXM ${r.pxm}, ${size}`,
      differs: other !== undefined && !other.some((o) => sameRow(o, r)),
    };
  });
}

// ---- header and legend -----------------------------------------------------

function header(v: Verdict, width: number): { parts: string[]; height: number } {
  const colour = v.status === 'pass' ? '#2e7d32' : v.status === 'unsupported' ? '#8a6d00' : DIFF_COLOUR;
  const parts = [
    text(MARGIN, 28, `${v.name}`, { 'font-size': 16, 'font-weight': 'bold' }),
    text(width - MARGIN, 28, STATUS[v.status], { 'font-size': 16, 'font-weight': 'bold', fill: colour, 'text-anchor': 'end' }),
    text(MARGIN, 47, cellOf(v), { 'font-family': MONO, fill: '#444' }),
  ];
  let y = 47;
  const notes = [
    v.firmwareVariant && `firmware expectation: ${v.firmwareVariant}`,
    v.status === 'error' && v.reason,
    v.status === 'unsupported' && unsupportedMessage(v),
    v.divergence && `layer: ${v.divergence.says}`,
    ...(v.layerPassage ?? []),
  ];
  for (const note of notes) {
    if (typeof note !== 'string') continue;
    for (const line of wrap(note, Math.floor((width - 2 * MARGIN) / 6))) {
      y += 15;
      parts.push(text(MARGIN, y, line, { fill: '#555', 'font-size': 10.5 }));
    }
  }
  return { parts, height: y };
}

function legendBlock(columns: readonly Column[], top: number, width: number): { parts: string[]; bottom: number } {
  const items: { swatch: string; label: string }[] = LEGEND_TYPES.map((type) => ({ swatch: swatch(E820_COLOURS.get(type) ?? OTHER_COLOUR), label: e820Name(type) }));
  const seen = new Set(columns.flatMap((c) => c.bars.map((b) => b.fill)));
  if (seen.has(OTHER_COLOUR)) items.push({ swatch: swatch(OTHER_COLOUR), label: 'other type' });
  items.push({ swatch: `fill="url(#hole)" stroke="#999"`, label: 'hole (compressed)' });
  if (columns.some((c) => c.bars.some((b) => b.differs))) items.push({ swatch: `fill="#ffffff" stroke="${DIFF_COLOUR}" stroke-width="2.5"`, label: 'differs: expected ≠ actual' });
  const parts: string[] = [];
  const itemWidth = 150;
  const perLine = Math.max(1, Math.floor((width - 2 * MARGIN) / itemWidth));
  items.forEach((item, i) => {
    const x = MARGIN + (i % perLine) * itemWidth;
    const y = top + 16 + Math.floor(i / perLine) * 18;
    parts.push(`<g class="legend"><rect x="${x}" y="${y}" width="14" height="12" ${item.swatch}/>${text(x + 20, y + 10, item.label)}</g>`);
  });
  let bottom = top + 12 + Math.ceil(items.length / perLine) * 18;
  const note = 'Height grows with log2(size); holes no table covers are cut short. Axis labels are boundaries (a range ends 1 byte before the next).';
  for (const line of wrap(note, Math.floor((width - 2 * MARGIN) / 5.4))) {
    bottom += 13;
    parts.push(text(MARGIN, bottom, line, { fill: '#777', 'font-size': 9.5 }));
  }
  return { parts, bottom };
}

function swatch(fill: string): string {
  return `fill="${fill}" stroke="#666"`;
}

// ---- the map ---------------------------------------------------------------

function mapBody(columns: readonly Column[], top: number, width: number): { parts: string[]; height: number } {
  const scale = brokenScale(columns.flatMap((c) => c.bars));
  const axisX = MARGIN + AXIS_WIDTH;
  const parts: string[] = [];
  let x = axisX + 8;
  const placed = columns.map((c) => {
    const at = x;
    x += c.width + COLUMN_GAP;
    return { column: c, x: at };
  });
  for (const { column, x: cx } of placed) parts.push(text(cx, top - 8, column.title, { 'font-weight': 'bold' }));
  parts.push(...holes(scale, top, axisX, width - MARGIN));
  parts.push(...guides(scale, top, axisX, width - MARGIN));
  for (const { column, x: cx } of placed) parts.push(...column.bars.map((b) => bar(b, scale, top, cx, column.width)));
  parts.push(...axis(scale, top, axisX));
  return { parts, height: scale.height };
}

function holes(scale: BrokenScale, top: number, left: number, right: number): string[] {
  return scale.segments
    .filter((s) => !s.covered)
    .flatMap((s) => {
      const y = top + s.top;
      const h = s.bottom - s.top;
      const zig = breakMark(left - 10, y + h / 2);
      return [
        `<rect class="hole"${attrs({ x: left - 40, y: fixed(y), width: fixed(right - left + 40), height: fixed(h), fill: 'url(#hole)' })}/>`,
        zig,
        text((left + right) / 2, y + h / 2 + 4, `hole · ${shortSize(s.end - s.start)}`, { 'text-anchor': 'middle', fill: '#666', 'font-style': 'italic' }),
      ];
    });
}

/** Two short slanted strokes on the axis: the conventional "axis broken here". */
function breakMark(x: number, y: number): string {
  const d = `M${fixed(x)} ${fixed(y - 2)} l20 -6 M${fixed(x)} ${fixed(y + 4)} l20 -6`;
  return `<path d="${d}" stroke="#444" stroke-width="1.2" fill="none"/>`;
}

function guides(scale: BrokenScale, top: number, left: number, right: number): string[] {
  return [...scale.offsets.values()].map((o) => `<line${attrs({ x1: left, y1: fixed(top + o), x2: right, y2: fixed(top + o), stroke: '#e3e3e3' })}/>`);
}

function axis(scale: BrokenScale, top: number, x: number): string[] {
  const line = scale.segments
    .filter((s) => s.covered)
    .map((s) => `<line${attrs({ x1: x, y1: fixed(top + s.top), x2: x, y2: fixed(top + s.bottom), stroke: '#444' })}/>`);
  const labels = [...scale.offsets].map(([address, o]) =>
    [
      `<line${attrs({ x1: x - 4, y1: fixed(top + o), x2: x, y2: fixed(top + o), stroke: '#444' })}/>`,
      text(x - 7, top + o + 3.5, hex(address), { 'font-family': MONO, 'font-size': 10, 'text-anchor': 'end' }),
    ].join(''),
  );
  return [...line, ...labels];
}

function bar(b: Bar, scale: BrokenScale, top: number, x: number, width: number): string {
  // Every bar's start and end+1 are boundaries of the scale, so both have an offset.
  const y = top + (scale.offsets.get(b.start) ?? 0);
  const h = (scale.offsets.get(b.end + 1n) ?? 0) + top - y;
  const stroke = b.differs ? `stroke="${DIFF_COLOUR}" stroke-width="2.5"` : `stroke="#555" stroke-width="0.8"`;
  // A differing row tall enough for two lines also shows its exact range: the evidence, not just the colour.
  const twoLines = b.differs && h >= 36;
  const labelY = twoLines ? y + h / 2 - 2 : y + h / 2 + 4;
  const parts = [
    `<title>${xmlText(b.tooltip)}</title>`,
    `<rect${attrs({ x, y: fixed(y), width, height: fixed(h), fill: b.fill })} ${stroke}/>`,
    text(x + 6, labelY, b.label, b.differs ? { 'font-weight': 'bold' } : {}),
  ];
  if (twoLines) parts.push(text(x + 6, labelY + 13, b.range, { 'font-family': MONO, 'font-size': 9.5, fill: '#333' }));
  if (b.differs) parts.push(text(x + width - 6, labelY, '≠', { fill: DIFF_COLOUR, 'font-weight': 'bold', 'font-size': 13, 'text-anchor': 'end' }));
  return `<g class="${b.differs ? 'row differs' : 'row'}">${parts.join('')}</g>`;
}

function emptyBody(v: Verdict, top: number): { parts: string[]; height: number } {
  const why = v.status === 'pass' ? 'the run observed no E820 or SRAT rows' : `no E820 or SRAT rows observed (${STATUS[v.status]})`;
  return { parts: [text(MARGIN, top + 4, why, { fill: '#555', 'font-style': 'italic' })], height: 20 };
}

function defs(): string {
  return [
    '<defs>',
    '<pattern id="hole" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">',
    '<rect width="6" height="6" fill="#fafafa"/><line x1="0" y1="0" x2="0" y2="6" stroke="#dddddd" stroke-width="2"/>',
    '</pattern>',
    '</defs>',
  ].join('');
}

// ---- small helpers ---------------------------------------------------------

function text(x: number, y: number, content: string, extra: Record<string, string | number> = {}): string {
  return `<text${attrs({ x: fixed(x), y: fixed(y), ...extra })}>${xmlText(content)}</text>`;
}

/** Pixel positions with at most two decimals: shorter files, same picture. */
function fixed(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function wrap(textToWrap: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of textToWrap.split(/\s+/)) {
    if (line && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
