import { describeAdjustment } from '../source/apply.ts';
import type { QemuManifest } from './qemu.ts';

/**
 * What a person must know about how the binary was made: each hunk that moved
 * (note) or needed fuzz (WARNING), and how the source compares with the series'
 * base-commit (WARNING when it is another commit or has local changes).
 */
export function buildNotes(manifest: Pick<QemuManifest, 'applied' | 'base'>): string[] {
  const lines: string[] = [];
  let fuzzed = 0;
  for (const patch of manifest.applied ?? []) {
    for (const hunk of patch.hunks) {
      if (hunk.fuzz > 0) fuzzed++;
      lines.push(`${hunk.fuzz > 0 ? 'WARNING' : 'note'}: ${patch.patch} (${patch.tool}): ${describeAdjustment(hunk)}`);
    }
  }
  if (fuzzed > 0) lines.push(`WARNING: ${fuzzed} hunk${fuzzed === 1 ? '' : 's'} applied with fuzz (context lines ignored): check ${fuzzed === 1 ? 'it' : 'them'} in the source before trusting this build`);
  const base = manifest.base;
  if (base) lines.push(`${base.status === 'mismatch' || base.status === 'dirty' ? 'WARNING' : 'note'}: ${base.summary}`);
  return lines;
}
