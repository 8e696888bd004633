import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seriesPaths } from '../../harness/qemu-build/tree.ts';
import { loadSeries } from '../../harness/source/series.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';

describe('the files a series names (what the build tree takes from the patched copy)', () => {
  it('the v5 series: old and new names of every diff', async () => {
    const series = await loadSeries(join(REPO_ROOT, 'patches', 'memmap-type', 'v5'));
    expect(seriesPaths(series.patches)).toEqual(['hw/core/numa.c', 'hw/i386/e820_memory_layout.h', 'hw/i386/pc.c', 'include/hw/boards.h', 'include/system/numa.h', 'qapi/machine.json', 'qemu-options.hx']);
  });

  it('new, deleted and renamed files; /dev/null and timestamps left out', () => {
    const patch = [
      'diff --git a/old.c b/new.c', 'similarity index 90%', 'rename from old.c', 'rename to new.c',
      '--- /dev/null', '+++ b/added.h\t2026-12-02 01:00:00', '@@ -0,0 +1 @@', '+x',
      '--- a/gone.c', '+++ /dev/null', '@@ -1 +0,0 @@', '-y', '',
    ].join('\n');
    expect(seriesPaths([{ content: patch }])).toEqual(['added.h', 'gone.c', 'new.c', 'old.c']);
  });
});
