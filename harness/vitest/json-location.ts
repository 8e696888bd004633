import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Finding } from '../core/vocabulary.ts';

/** A place in a case file, 1-based as editors and GitHub annotations count. */
export interface JsonLocation {
  line: number;
  column: number;
}

/**
 * Where in a case file's text the expectation behind a finding is written:
 * the aspect in the firmware variant that applied, else in `expect`, else
 * `expect.model` (rows the layout model derived), else `expect`; a check
 * the model derives from a field of the case (`caseKey`, e.g. `hmat`) points
 * at that field first. JSON is
 * YAML, so the yaml parser's node ranges give the offsets.
 */
export function locateExpectation(text: string, aspect: Finding['aspect'], firmware?: string, caseKey?: string): JsonLocation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const candidates: (string | number)[][] = [
    // A check derived from a field of the case itself (its `hmat` entries), not from `expect`.
    ...(caseKey === undefined ? [] : [[caseKey]]),
    ...(firmware === undefined ? [] : [['onFirmware', firmware, 'expect', aspect]]),
    ['expect', aspect],
    ['expect', 'model'],
    ['expect'],
  ];
  for (const path of candidates) {
    const offset = keyOffset(doc.contents, path);
    if (offset === undefined) continue;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  }
  return { line: 1, column: 1 };
}

/** The offset of the key at the end of `path`, walking maps only. */
function keyOffset(node: unknown, path: readonly (string | number)[]): number | undefined {
  let current = node;
  let offset: number | undefined;
  for (const key of path) {
    if (!isMap(current)) return undefined;
    const pair = current.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (pair === undefined || !isScalar(pair.key)) return undefined;
    offset = pair.key.range?.[0];
    current = pair.value;
  }
  return offset;
}
