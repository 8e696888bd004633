/** The configurations a case's stated rows were written for: where they are its author's evidence and win over the model. */
import type { CaseSpec, MachineType } from '../case/types.ts';

/** The revision a case's stated rows are written for unless it says otherwise. */
export const DEFAULT_CASE_REVISION = 'v5';

/** The configurations a case's stated rows were written for. */
export interface OwnConfiguration {
  machine: MachineType;
  revision: string;
  kernel: string;
  /** The case's firmware and every firmware it has a variant for. */
  firmwares: string[];
}

/** The case's machine, revision (default v5), kernel, and its firmware with every onFirmware variant's. */
export function ownConfiguration(spec: CaseSpec): OwnConfiguration {
  return { machine: spec.machine, revision: spec.revision ?? DEFAULT_CASE_REVISION, kernel: spec.kernel, firmwares: [spec.firmware, ...Object.keys(spec.onFirmware ?? {})] };
}
