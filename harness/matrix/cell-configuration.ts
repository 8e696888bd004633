/** A matrix cell as the expectation engine's configuration, and the engine's answer for a case in that cell. */
import type { BackendKind, CaseSpec, MachineType } from '../case/types.ts';
import type { CaseExpectation, Configuration } from '../model/case-expectation.ts';
import { expectationsFor } from '../model/expectations.ts';
import type { Cell } from './types.ts';

/** A cell's axes as the engine's configuration (the transport changes nothing it sees). */
export function cellConfiguration(cell: Cell): Configuration {
  return { machine: cell.machine as MachineType, firmware: cell.firmware, kernel: cell.kernel, revision: cell.revision, backend: cell.backend as BackendKind };
}

/**
 * What `spec` (already in the cell's interface: interface.ts) must show in
 * `cell`: the same answer `run` gets for that configuration. Throws
 * HarnessError as expectationsFor does for axis values the traits lack; the
 * engine itself says unsupported where the cell's revision lacks memmap-type
 * or sp-mem.
 */
export function expectationFor(cell: Cell, spec: CaseSpec): CaseExpectation {
  return expectationsFor(spec, cellConfiguration(cell));
}
