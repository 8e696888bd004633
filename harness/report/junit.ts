import { cellOf, countStatuses, groupByCell, unsupportedMessage } from './cell.ts';
import type { Finding, Verdict } from '../core/vocabulary.ts';
import { attrs, xmlText } from './xml.ts';

/**
 * JUnit XML: one <testsuite> per matrix cell (a single run is one cell), one
 * <testcase> per case × cell with classname = the cell and name = the case.
 * fail → <failure>, error → <error>, unsupported → <skipped> whose message
 * says it is not a pass. <system-out> names the serial log and holds its last
 * lines (`serialTail`), so a CI page shows the end of the boot without the artifact.
 */
export function toJunitXml(verdicts: readonly Verdict[], name = 'memmap-harness', serialTail: (v: Verdict) => string | undefined = () => undefined): string {
  const counts = countStatuses(verdicts);
  const suites = [...groupByCell(verdicts)].map(([cell, group]) => testsuite(cell, group, serialTail));
  const root = attrs({
    name,
    tests: verdicts.length,
    failures: counts.fail,
    errors: counts.error,
    skipped: counts.unsupported,
    time: seconds(totalMs(verdicts)),
  });
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites${root}>`, ...suites, '</testsuites>', ''].join('\n');
}

function testsuite(cell: string, verdicts: readonly Verdict[], serialTail: (v: Verdict) => string | undefined): string {
  const counts = countStatuses(verdicts);
  const head = attrs({
    name: cell,
    tests: verdicts.length,
    failures: counts.fail,
    errors: counts.error,
    skipped: counts.unsupported,
    time: seconds(totalMs(verdicts)),
  });
  return [`  <testsuite${head}>`, ...verdicts.map((v) => testcase(v, serialTail(v))), '  </testsuite>'].join('\n');
}

function testcase(v: Verdict, tail: string | undefined): string {
  const head = `    <testcase${attrs({ classname: cellOf(v), name: v.name, time: seconds(v.durationMs) })}>`;
  const body = [outcome(v), systemOut(v, tail)].filter((part): part is string => part !== undefined);
  return [head, ...body, '    </testcase>'].join('\n');
}

function outcome(v: Verdict): string | undefined {
  switch (v.status) {
    case 'pass':
      return undefined;
    case 'fail':
      return element('failure', { message: failureMessage(v), type: 'fail' }, evidence(v));
    case 'error':
      return element('error', { message: v.reason ?? 'the run broke', type: 'error' }, evidence(v));
    case 'unsupported':
      return `      <skipped${attrs({ message: unsupportedMessage(v) })}/>`;
  }
}

/** One line naming every check that failed: what a CI page shows first. */
function failureMessage(v: Verdict): string {
  const failed = failedFindings(v);
  if (failed.length === 0) return v.reason ?? 'failed';
  return `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((f) => `${f.aspect}: ${f.check}`).join('; ')}`;
}

/** The text a person needs: the reason, the firmware expectation in force, each failed check with its detail lines. */
function evidence(v: Verdict): string {
  const lines: string[] = [];
  if (v.reason) lines.push(v.reason);
  if (v.firmwareVariant) lines.push(`firmware expectation: ${v.firmwareVariant}`);
  for (const f of failedFindings(v)) lines.push(`${f.aspect}: ${f.check}`, ...f.detail);
  return lines.join('\n');
}

function systemOut(v: Verdict, tail: string | undefined): string | undefined {
  if (v.serialLog === undefined) return undefined;
  const text = tail === undefined ? `serial log: ${v.serialLog}` : `serial log: ${v.serialLog} (last lines follow)\n${tail}`;
  return element('system-out', {}, text);
}

function element(tag: string, attributes: Record<string, string | undefined>, text: string): string {
  return `      <${tag}${attrs(attributes)}>${xmlText(text)}</${tag}>`;
}

function failedFindings(v: Verdict): Finding[] {
  return v.findings.filter((f) => !f.ok);
}

function totalMs(verdicts: readonly Verdict[]): number {
  return verdicts.reduce((sum, v) => sum + v.durationMs, 0);
}

/** JUnit times are seconds; milliseconds are as fine as anyone reads them. */
function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}
