import type { Finding } from '../expect/check.ts';
import type { E820Entry } from '../parse/e820.ts';
import type { SratMemory } from '../parse/srat.ts';

/**
 * A case's verdict on one configuration:
 * - pass: every expectation held;
 * - fail: the run completed and some expectation did not hold (see findings);
 * - error: the run itself broke (QEMU refused to start, the guest hung, …);
 * - unsupported: the QEMU under test lacks `memmap-type` (patch not applied).
 */
export type Status = 'pass' | 'fail' | 'error' | 'unsupported';

/** A package at an exact version, as a report records it to make a run reproducible. */
export interface PinnedPackage {
  name: string;
  version: string;
  sha256?: string;
}

/** Everything a report needs about one case run. */
export interface Verdict {
  name: string;
  status: Status;
  /** Why, for error and unsupported. */
  reason?: string;
  firmware: string;
  kernel: string;
  machine: string;
  qemu: string;
  /** Set when the firmware has its own expectations, with the reason the case file gives. */
  firmwareVariant?: string;
  /** The Debian packages the guest image came from, pinned by version and sha256 (absent when no guest was set up). */
  inputs?: { kernel: PinnedPackage[]; firmware: PinnedPackage };
  findings: Finding[];
  e820: E820Entry[];
  srat: SratMemory[];
  /** Path of the full raw serial log kept on disk. */
  serialLog?: string;
  durationMs: number;
}

/** The status that follows from findings. */
export function statusOf(findings: Finding[]): Status {
  return findings.every((f) => f.ok) ? 'pass' : 'fail';
}
