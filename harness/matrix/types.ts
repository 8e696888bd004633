/**
 * The shape of cases/matrix/matrix.json: axes, which cells run which cases,
 * and what each axis value does to what the guest sees, with the reason.
 */

/** The axes, in the order a cell's name lists them. */
export const AXES = ['revision', 'machine', 'firmware', 'kernel', 'backend', 'transport'] as const;
export type Axis = (typeof AXES)[number];

/** One point of the matrix: a value per axis. */
export type Cell = Readonly<Record<Axis, string>>;

/** Axis values per axis; a missing axis in a rule means "any value". */
export type AxisSelection = Partial<Record<Axis, string[]>>;

/** A block of cells: the product of its axis lists. */
export interface IncludeGroup extends AxisSelection {
  why: string;
}

/** Drops the cells a selection matches, or with `cases` only those cases from them. */
export interface ExcludeRule extends AxisSelection {
  why: string;
  cases?: string[];
}

/** A named selection for quick runs (`npm start`, `npm test`). */
export interface Subset {
  description: string;
  cells: string[];
  /** Cases to run in those cells; default every case the cell runs. */
  cases?: string[];
}

/** E820 types the patch can give a node, besides normal RAM. */
export type TypedMemmap = 'spm' | 'reserved';

export interface RevisionInfo {
  /** Series directory relative to the repository, or null for the unpatched baseline. */
  series: string | null;
  /** Whether a reserved node keeps its SRAT memory rows. */
  reservedInSrat: boolean;
  reason: string;
}

export interface MachineInfo {
  /** RAM at or above this size is split: `lowMemory` below 4 GiB, the rest from 4 GiB. */
  splitAt: string;
  lowMemory: string;
  reason: string;
}

export interface FirmwareInfo {
  /** Whether the firmware hands QEMU's E820 entry of this type on to the guest. */
  passes: Record<TypedMemmap, boolean>;
  reason: Record<TypedMemmap, string>;
}

/** What a kernel shows for a soft-reserved range it was given. */
export interface SpmView {
  /** /proc/iomem has a `Soft Reserved` resource for the range. */
  iomemSoftReserved: boolean;
  /** /sys/firmware/memmap lists the range as `Soft Reserved`. */
  firmwareMemmapSoftReserved: boolean;
  /** A dax device of the range's size targets the node. */
  daxDevice: boolean;
  /** kmem onlined the range: it is the node's MemTotal. */
  onlined: boolean;
}

export interface KernelInfo {
  whenSpmReachesGuest: SpmView;
  reason: string;
}

/** cases/matrix/matrix.json. */
export interface MatrixDefinition {
  description: string;
  axes: Record<Axis, string[]>;
  /** Case names every cell runs (before exclusions), or "all" for every file in cases/. */
  cases: 'all' | string[];
  /** Why those cases. */
  casesWhy?: string;
  include: IncludeGroup[];
  exclude: ExcludeRule[];
  subsets: Record<string, Subset>;
  revisions: Record<string, RevisionInfo>;
  machines: Record<string, MachineInfo>;
  firmware: Record<string, FirmwareInfo>;
  kernels: Record<string, KernelInfo>;
  backends: { reason: string };
  transports: { reason: string };
}
