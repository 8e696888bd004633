/**
 * The shape of the expectation engine's answer (what a run of a case on a
 * configuration must show, and why) and the two edits every step of the
 * engine makes to it. Its own file so the engine's parts share it without
 * importing the dispatcher.
 */
import type { BackendKind, CaseSpec, Expectations, MachineType } from '../case/types.ts';
import type { TypedMemmap } from '../core/memmap-types.ts';
import type { SpmView } from '../traits/traits.ts';
import type { ExpectedNodeAccess } from './hmat.ts';
import type { QemuTables } from './qemu-tables.ts';
import type { TypedNode } from './typed-nodes.ts';

/** Where a case runs. */
export interface Configuration {
  machine: MachineType;
  firmware: string;
  kernel: string;
  /** Revision id (harness/traits/traits.json); undefined for a QEMU of unknown revision: only a case's own rows apply. */
  revision?: string;
  /** Backend of every node after node 0 (the matrix's backend axis); default each node's own. */
  backend?: BackendKind;
}

/** A check the case checker cannot state: Soft Reserved in only one of /proc/iomem and /sys/firmware/memmap. */
export interface SoftReservedCheck {
  place: 'iomem' | 'firmware-memmap';
  ranges: string[];
  /** The kernel source line the expectation rests on (traits.json kernels.<id>.iomemSource), shown when it fails. */
  source?: string;
}

/** What a run of a case on a configuration must show, and why. */
export interface CaseExpectation {
  /** `run`: boot (or launch) and compare; `unsupported`: the QEMU must say it lacks memmap-type; `underivable`: no rows can be stated here. */
  kind: 'run' | 'unsupported' | 'underivable';
  /** The case as it runs: machine and backends of the configuration, expectations derived, onFirmware resolved. */
  spec: CaseSpec;
  /** Short phrases for report tables. */
  summary: string[];
  /** A few words each, for the matrix grid's "expects" column. */
  tags: string[];
  /** The reasons behind them: traits' reasons, the case file's onFirmware reason, the model's notes. */
  reasons: string[];
  /** For `underivable`: why. */
  problem?: string;
  /** The onFirmware variant's reason when the stated rows came from one. */
  variantReason?: string;
  typed: TypedNode[];
  /** Whether each typed type reaches the guest's E820 on this firmware. */
  firmwarePasses: Record<TypedMemmap, boolean>;
  /** What this kernel makes of a soft-reserved range it gets. */
  kernelView: SpmView;
  softReservedChecks: SoftReservedCheck[];
  /** QEMU's own tables (fw_cfg etc/e820, SRAT with flags) for a run that boots; firmware-independent. */
  qemuTables?: QemuTables;
  /** Why there is no `qemuTables` for a run that boots (a QEMU of unknown revision). */
  qemuTablesUnknown?: string;
  /** For a case with `hmat`: each node's access0 attributes as the guest must show them (aspect guest). */
  nodeAccess?: ExpectedNodeAccess[];
}

/** The expectation with the case's expectations replaced by `expect`. */
export function withExpect(out: CaseExpectation, expect: Expectations): CaseExpectation {
  return { ...out, spec: { ...out.spec, expect } };
}

/** The expectation turned "underivable" for `problem`: no rows can be stated on this configuration. */
export function underivable(out: CaseExpectation, problem: string): CaseExpectation {
  return { ...out, kind: 'underivable', problem, summary: ['cannot derive the expectations for this configuration'], tags: ['underivable'], reasons: [problem] };
}
