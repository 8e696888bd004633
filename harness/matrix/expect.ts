import type { BackendKind, CaseSpec, MachineType } from '../case/types.ts';
import { expectationsFor, type CaseExpectation, type Configuration } from '../model/expectations.ts';
import type { Cell } from './types.ts';

export type { SoftReservedCheck, TypedNode } from '../model/expectations.ts';
export { describeView } from '../model/expectations.ts';

/** What a cell expects of a case: the expectation engine's answer, the same `run` gets for that configuration. */
export type CellExpectation = CaseExpectation;

/** A cell's axes as the engine's configuration (the transport changes nothing it sees). */
export function cellConfiguration(cell: Cell): Configuration {
  return { machine: cell.machine as MachineType, firmware: cell.firmware, kernel: cell.kernel, revision: cell.revision, backend: cell.backend as BackendKind };
}

/**
 * What `spec` (already in the cell's interface: interface.ts) must show in
 * `cell`; throws HarnessError as expectationsFor does for axis values the
 * traits lack. The engine itself says unsupported where the cell's revision
 * lacks memmap-type or sp-mem.
 */
export function expectationFor(cell: Cell, spec: CaseSpec): CellExpectation {
  return expectationsFor(spec, cellConfiguration(cell));
}
