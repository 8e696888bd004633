import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadProfiles } from '../traits/profiles.ts';
import type { QemuChoice } from '../run/resolve-qemu.ts';
import { UsageError } from '../util/errors.ts';
import { REPO_ROOT } from '../util/paths.ts';

/** One side of a comparison: how to get its QEMU, and the name rows call it by. */
export type Side = LiveSide | ReportSide;

/** A side whose cases run now. */
export interface LiveSide {
  /** As the user wrote it (`v5`, `patches/memmap-type/v5`, `v6.mbx`…): rows say "present in <name>". */
  name: string;
  kind: 'revision' | 'series' | 'binary' | 'source';
  choice: QemuChoice;
}

/** A side that ran before: its report.json is read, nothing boots. */
export interface ReportSide {
  name: string;
  kind: 'report';
  report: string;
}

// Source spec forms that name a source or a Debian binary package rather than a path.
const SOURCE_PREFIXES = ['debian:', 'debian-bin:', 'git:', 'dir:'];

/**
 * What a side argument names, tried in this order: a revision of
 * harness/traits/traits.json (`v5`, `v6`, `baseline`, `upstream-11.1`: its
 * series, or its own source); a `--source` spec (`debian:…`, `debian-bin:…`,
 * `git:…`, `dir:…`, `….git#REF`: that source as it is, no series); a directory
 * of *.patch files or an mbox (a series on the default source); an executable
 * (a `--qemu` binary); another directory (a QEMU source tree, as it is); a
 * `*.json` file (a report.json of an earlier run: read, not run again).
 * Throws UsageError for anything else.
 */
export async function parseSide(text: string, cwd = process.cwd()): Promise<Side> {
  const profile = loadProfiles().find((p) => p.id === text);
  if (profile) {
    if (profile.source) return { name: text, kind: 'revision', choice: { source: profile.source, patches: null } };
    return { name: text, kind: 'revision', choice: { patches: profile.series === null ? null : join(REPO_ROOT, profile.series) } };
  }
  if (SOURCE_PREFIXES.some((p) => text.startsWith(p)) || /\.git#/.test(text)) return { name: text, kind: 'source', choice: { source: text, patches: null } };
  const path = resolve(cwd, text);
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    throw new UsageError(`'${text}' is no revision, source spec, series or binary`, `give ${loadProfiles().map((p) => p.id).join(', ')}, a series directory or mbox, a qemu-system-x86_64, or a source spec (debian:, debian-bin:, git:, dir:)`);
  }
  if (info.isDirectory()) {
    const patches = (await readdir(path)).some((n) => n.endsWith('.patch'));
    return patches ? { name: text, kind: 'series', choice: { patches: path } } : { name: text, kind: 'source', choice: { source: `dir:${path}`, patches: null } };
  }
  if (/\.json$/i.test(path)) return { name: text, kind: 'report', report: path };
  const executable = await access(path, constants.X_OK).then(() => true, () => false);
  if (executable && !/\.(mbx|mbox|patch|eml)$/i.test(path)) return { name: text, kind: 'binary', choice: { binary: path } };
  return { name: text, kind: 'series', choice: { patches: path } };
}
