import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runStem } from './cell.ts';
import { writeJsonReport } from './json.ts';
import { toJunitXml } from './junit.ts';
import { serialTail } from './serial-tail.ts';
import type { ExpectedRows } from './map-model.ts';
import { toMarkdown } from './markdown.ts';
import { renderMemoryMap } from './svg.ts';
import type { Verdict } from '../core/vocabulary.ts';

export interface WriteReportsOptions {
  /** Whole expected tables for a verdict's map; by default they are rebuilt from its failed row checks. */
  expected?: (v: Verdict) => ExpectedRows | undefined;
}

/** Where writeReports put each report. */
export interface ReportPaths {
  json: string;
  junit: string;
  markdown: string;
  /** One memory map per verdict, in verdict order: svg/<case>@<cell>.svg. */
  svg: string[];
}

/** Writes report.json, junit.xml, summary.md and svg/<case>@<cell>.svg into `dir`; returns their paths. */
export async function writeReports(dir: string, verdicts: readonly Verdict[], options: WriteReportsOptions = {}): Promise<ReportPaths> {
  const svgDir = join(dir, 'svg');
  await mkdir(svgDir, { recursive: true });
  const svgNames = uniqueNames(verdicts);
  const paths: ReportPaths = {
    json: join(dir, 'report.json'),
    junit: join(dir, 'junit.xml'),
    markdown: join(dir, 'summary.md'),
    svg: svgNames.map((name) => join(svgDir, name)),
  };
  // The summary names each verdict's map; a verdict object listed twice gets its first one.
  const mapOf = new Map(verdicts.map((v, i) => [v, join('svg', svgNames[i] ?? '')] as const).reverse());
  await writeJsonReport(paths.json, [...verdicts]);
  const tails = new Map(await Promise.all(verdicts.map(async (v) => [v, v.serialLog === undefined ? undefined : await serialTail(v.serialLog)] as const)));
  await writeFile(paths.junit, toJunitXml(verdicts, undefined, (v) => tails.get(v)));
  await writeFile(paths.markdown, toMarkdown(verdicts, { mapPath: (v) => mapOf.get(v) }));
  await Promise.all(verdicts.map((v, i) => writeFile(paths.svg[i] as string, renderMemoryMap(v, options.expected?.(v)))));
  return paths;
}

/** File names in verdict order; a case run twice in one cell (a repeat) gets `-2`, `-3`… rather than overwriting. */
function uniqueNames(verdicts: readonly Verdict[]): string[] {
  const used = new Map<string, number>();
  return verdicts.map((v) => {
    const stem = runStem(v);
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    return `${n === 1 ? stem : `${stem}-${n}`}.svg`;
  });
}
