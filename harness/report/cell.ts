import type { Verdict } from '../core/vocabulary.ts';

/** The matrix cell a verdict ran in: `${qemu}.${machine}.${firmware}.${kernel}` (JUnit's classname). */
export function cellOf(v: Pick<Verdict, 'qemu' | 'machine' | 'firmware' | 'kernel'>): string {
  return `${v.qemu}.${v.machine}.${v.firmware}.${v.kernel}`;
}

/**
 * A file name stem for one case run, `<case>@<cell>`, safe on any file system:
 * QEMU labels may be paths or carry `:` (`patched:v5`), so everything outside a
 * conservative set becomes `_`.
 */
export function runStem(v: Pick<Verdict, 'name' | 'qemu' | 'machine' | 'firmware' | 'kernel'>): string {
  return `${v.name}@${cellOf(v)}`.replace(/[^A-Za-z0-9._@+-]/g, '_').replace(/^\.+/, '_');
}

/** Verdicts grouped by cell, cells and verdicts in first-seen order. */
export function groupByCell(verdicts: readonly Verdict[]): Map<string, Verdict[]> {
  const groups = new Map<string, Verdict[]>();
  for (const v of verdicts) {
    const cell = cellOf(v);
    groups.set(cell, [...(groups.get(cell) ?? []), v]);
  }
  return groups;
}

/** How many verdicts have each status. */
export function countStatuses(verdicts: readonly Verdict[]): Record<Verdict['status'], number> {
  const counts = { pass: 0, fail: 0, error: 0, unsupported: 0 };
  for (const v of verdicts) counts[v.status] += 1;
  return counts;
}

/** The words every writer uses for an unsupported verdict: it is not a pass. */
export function unsupportedMessage(v: Pick<Verdict, 'reason'>): string {
  // Older runs repeat the prefix ("patch not applied: patch not applied: …"): say it once.
  const reason = (v.reason ?? '').replace(/^(?:\s*patch not applied:?\s*)+/i, '').trim();
  return `unsupported: patch not applied (not a pass)${reason ? `: ${reason}` : ''}`;
}
