import type { CaseSpec } from '../case/types.ts';
import { DEFAULT_CASE_REVISION } from '../model/expectations.ts';
import { HarnessError } from '../util/errors.ts';

/** The QEMU revisions the test bed has: our own v5 and v6 series, the unpatched baseline (10.2.2), and upstream 11.1 (Debian sid's binary, for sp-mem). */
export const TESTBED_REVISIONS = ['v5', 'v6', 'baseline', 'upstream-11.1'] as const;

/** A revision the test bed has a QEMU for. */
export type TestbedRevision = (typeof TESTBED_REVISIONS)[number];

/** Where one test of a case runs: which QEMU and which firmware (machine and kernel stay the case's own). */
export interface CaseConfiguration {
  revision: TestbedRevision;
  firmware: string;
}

/**
 * The configurations a case is a test on:
 * - revisions: the ones the case names (`profiles`); else, for layout-model
 *   cases that name no revision, both patched series (the model predicts
 *   each); else the revision
 *   its rows were written for plus the baseline (which must say
 *   "unsupported" to memmap-type and to sp-mem, or show the same map without
 *   them): sp-mem cases name upstream-11.1, where they were measured;
 * - firmwares: the case's own and each `onFirmware` variant.
 */
export function caseConfigurations(spec: CaseSpec): CaseConfiguration[] {
  const firmwares = [spec.firmware, ...Object.keys(spec.onFirmware ?? {}).filter((f) => f !== spec.firmware)];
  return revisionsOf(spec).flatMap((revision) => firmwares.map((firmware) => ({ revision, firmware })));
}

/** How a configuration reads in a test name: `v5 · ovmf-sid`. */
export function configurationLabel(config: CaseConfiguration): string {
  return `${config.revision} · ${config.firmware}`;
}

function revisionsOf(spec: CaseSpec): TestbedRevision[] {
  if (spec.profiles !== undefined) return spec.profiles.map((p) => testbedRevision(p, spec.name));
  // A model case that names no revision is about our series; one that names a revision (sp-mem: upstream-11.1) runs there.
  if (spec.expect.model === true && spec.revision === undefined) return ['v5', 'v6'];
  const own = testbedRevision(spec.revision ?? DEFAULT_CASE_REVISION, spec.name);
  return own === 'baseline' ? [own] : [own, 'baseline'];
}

function testbedRevision(id: string, caseName: string): TestbedRevision {
  const found = TESTBED_REVISIONS.find((r) => r === id);
  if (found === undefined) throw new HarnessError(`${caseName}: no QEMU of revision '${id}' in the test bed`, `name one of ${TESTBED_REVISIONS.join(', ')} in the case's profiles`);
  return found;
}
