import { inject } from 'vitest';

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
