/**
 * The QEMU builder's cache key for one matrix revision, computed without
 * building: what the workflow keys actions/cache with, so each source × series
 * is built once and every cell job restores exactly that build.
 *
 *   npx tsx scripts/ci-cache-key.ts [--source SPEC] --revision v5|v6|baseline
 *
 * Prints {"key", "path", "buildArgs"} as JSON; under GitHub Actions also writes
 * key=, path= (the cache entry directory) and build-args= (the `memmap-harness
 * build` arguments for this revision) to $GITHUB_OUTPUT.
 *
 * The key is ensureQemu's own (buildKey in harness/qemu-build/qemu.ts): source
 * identity (a git source costs one `git ls-remote`; a Debian one its cached
 * tarball), the series' hash, configure arguments, device config and builder
 * version.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDeviceConfig } from '../harness/qemu-build/config.ts';
import { REPO_ROOT } from '../harness/util/paths.ts';
import { buildKey } from '../harness/qemu-build/qemu.ts';
import { cacheArea } from '../harness/util/cache-dirs.ts';
import { loadMatrix } from '../harness/matrix/load.ts';
import { resolveSource } from '../harness/source/fetch.ts';
import { loadSeries } from '../harness/source/series.ts';
import { DEFAULT_SOURCE_SPEC, parseSourceSpec } from '../harness/source/spec.ts';

const { values } = parseArgs({ options: { source: { type: 'string' }, revision: { type: 'string' } } });
const def = await loadMatrix();
const revision = values.revision ?? '';
const info = def.revisions[revision];
if (!info) {
  console.error(`ci-cache-key: --revision must be one of ${Object.keys(def.revisions).join(', ')}`);
  process.exit(2);
}
const series = info.series === null ? null : await loadSeries(join(REPO_ROOT, info.series));
const source = await resolveSource(parseSourceSpec(values.source ?? DEFAULT_SOURCE_SPEC), { log: (line) => console.error(line) });
const key = buildKey(source, series, await readDeviceConfig());
const result = { key, path: join(cacheArea('qemu'), key), buildArgs: info.series === null ? '--no-patches' : `--patches ${info.series}` };
console.log(JSON.stringify(result));
if (process.env.GITHUB_OUTPUT) {
  await appendFile(process.env.GITHUB_OUTPUT, `key=${result.key}\npath=${result.path}\nbuild-args=${result.buildArgs}\n`);
}
