/**
 * The shape of cases/matrix/matrix.json: axes, which cells run which cases;
 * loaded together with the per-axis traits of harness/traits/traits.json.
 */
import type { Traits } from '../traits/traits.ts';
import { DEFAULT_ACCELERATOR } from '../util/accel.ts';

/** The axes, in the order a cell's name lists them (the interface and accelerator only when not the default). */
export const AXES = ['revision', 'machine', 'firmware', 'kernel', 'backend', 'transport', 'interface', 'accel'] as const;

/** The memory interfaces a cell can express a case in: the series' `-numa node,memmap-type`, or upstream's `-device sp-mem`. */
export const INTERFACES = ['memmap-type', 'sp-mem'] as const;

/** The interface a cell name leaves out: names from before the axis existed keep their meaning. */
export const DEFAULT_INTERFACE = 'memmap-type';

/** Trailing axes a cell name leaves out at their default value, so names from before each axis keep their meaning. */
export const OPTIONAL_AXES: Readonly<Partial<Record<Axis, string>>> = { interface: DEFAULT_INTERFACE, accel: DEFAULT_ACCELERATOR };
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

export type { SpmView } from '../traits/traits.ts';

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
  /** Per-axis traits with their reasons, from harness/traits/traits.json (not from the matrix file). */
  revisions: Traits['revisions'];
  machines: Traits['machines'];
  firmware: Traits['firmware'];
  kernels: Traits['kernels'];
  backends: { reason: string };
  transports: { reason: string };
}
