import { hashJson } from '../util/hash.ts';
import type { SourceKind } from '../source/spec.ts';

/** Everything that decides the bytes of a build. Anything else (spec spelling, paths, time) is left out on purpose. */
export interface QemuKeyInputs {
  /** Content identity of the source: orig tarball sha256, git commit or local tree hash. */
  source: { kind: SourceKind; hash: string };
  /** null for the baseline (no series). */
  seriesHash: string | null;
  configureArgs: readonly string[];
  deviceConfig: string;
  builderVersion: number;
}

/** The cache key of a QEMU build: a stable hash of its inputs (object key order does not matter). */
export function qemuCacheKey(inputs: QemuKeyInputs): string {
  return hashJson({
    source: { kind: inputs.source.kind, hash: inputs.source.hash },
    seriesHash: inputs.seriesHash,
    configureArgs: [...inputs.configureArgs],
    deviceConfig: inputs.deviceConfig,
    builderVersion: inputs.builderVersion,
  });
}
