import type { BackendKind, CaseSpec, MachineType } from '../case/types.ts';
import { expectationsFor, usesSpMem, type CaseExpectation, type Configuration } from '../model/expectations.ts';
import { traitOf } from '../model/traits.ts';
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
 * traits lack. A revision whose QEMU has no sp-mem must say unsupported.
 */
export function expectationFor(cell: Cell, spec: CaseSpec): CellExpectation {
  const expectation = expectationsFor(spec, cellConfiguration(cell));
  const revision = traitOf('revisions', cell.revision);
  if (!usesSpMem(spec) || revision.spMemSupported !== false) return expectation;
  return { ...expectation, kind: 'unsupported', summary: [`unsupported: ${revision.label} QEMU has no -device sp-mem`], tags: ['unsupported'], reasons: [`${cell.revision}: ${revision.description}`] };
}
