import { inject } from 'vitest';
import type { QemuUnderTest } from '../run/run-case.ts';
import { HarnessError } from '../util/errors.ts';
import type { TestbedRevision } from './configurations.ts';

/** What the integration global setup built for the tests: absolute paths of real binaries. */
export interface Testbed {
  qemuV5: string;
  qemuV6: string;
  qemuBaseline: string;
  firmwareDirs: string[];
  /** QEMUs of the revisions that name their own source in the traits (upstream-11.1: Debian sid's binary), by revision id; each with its own -L dirs. */
  sourced: Record<string, SourcedQemu>;
}

/** A QEMU that comes with its own firmware directories (a debian-bin runtime). */
export interface SourcedQemu {
  binary: string;
  firmwareDirs: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: Testbed;
  }
}

/** The testbed the global setup provided; fails loudly rather than letting a test skip. */
export function testbed(): Testbed {
  const bed = inject('testbed');
  if (!bed) throw new Error('integration testbed missing: run through `npm test` (vitest.config.ts globalSetup: test/integration/global-setup.ts)');
  return bed;
}

/** The test bed's QEMU of a revision: our build (v5, v6 with their own series; the baseline), or the runtime of a revision with its own source. */
export function testbedQemu(revision: TestbedRevision): QemuUnderTest {
  const bed = testbed();
  if (revision === 'upstream-11.1') return sourcedQemu(bed, revision);
  const binary = { v5: bed.qemuV5, v6: bed.qemuV6, baseline: bed.qemuBaseline }[revision];
  return { binary, label: revision, firmwareDirs: bed.firmwareDirs, ...(revision === 'baseline' ? {} : { ownSeries: revision }) };
}

function sourcedQemu(bed: Testbed, revision: string): QemuUnderTest {
  const qemu = bed.sourced[revision];
  if (qemu === undefined) throw new HarnessError(`the test bed has no QEMU for revision '${revision}'`, `its traits.json entry needs a \`source\` the global setup unpacks (test/integration/global-setup.ts)`);
  return { binary: qemu.binary, label: revision, firmwareDirs: qemu.firmwareDirs };
}
