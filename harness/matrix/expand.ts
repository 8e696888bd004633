import { HarnessError } from '../util/errors.ts';
import { cellName, parseCellName } from './name.ts';
import { AXES, type Axis, type AxisSelection, type Cell, type MatrixDefinition } from './types.ts';

/** A cell with its name and the cases it runs. */
export interface PlannedCell {
  name: string;
  cell: Cell;
  cases: string[];
}

/** A cell left out because something it needs does not exist here (e.g. a kernel id the image builder lacks). */
export interface UnavailableCell {
  name: string;
  reason: string;
}

export interface MatrixPlan {
  cells: PlannedCell[];
  unavailable: UnavailableCell[];
}

/** A `--filter`: one axis (or `case`) and the values it keeps. */
export interface Filter {
  key: Axis | 'case';
  values: string[];
}

export interface PlanOptions {
  /** Every case name in cases/ (what "all" means). */
  allCases: readonly string[];
  /** Why an axis value cannot run here, or undefined when it can. */
  unavailable?: (axis: Axis, value: string) => string | undefined;
  subset?: string;
  filters?: readonly Filter[];
}

/** Include groups' products, in group order, without duplicates. */
export function expandCells(def: MatrixDefinition): Cell[] {
  const seen = new Set<string>();
  const cells: Cell[] = [];
  for (const group of def.include) {
    for (const cell of product(AXES.map((axis) => group[axis] ?? def.axes[axis]))) {
      const name = cellName(cell);
      if (seen.has(name)) continue;
      seen.add(name);
      cells.push(cell);
    }
  }
  return cells.filter((cell) => !def.exclude.some((rule) => rule.cases === undefined && matches(rule, cell)));
}

/** The cases a cell runs: the matrix's case list minus exclusions that name cases and match the cell. */
export function casesForCell(def: MatrixDefinition, cell: Cell, allCases: readonly string[]): string[] {
  const listed = def.cases === 'all' ? [...allCases] : def.cases;
  const dropped = new Set(def.exclude.filter((r) => r.cases !== undefined && matches(r, cell)).flatMap((r) => r.cases ?? []));
  return listed.filter((c) => !dropped.has(c));
}

/** Whether every axis the selection names holds the cell's value. */
export function matches(selection: AxisSelection, cell: Cell): boolean {
  return AXES.every((axis) => selection[axis] === undefined || (selection[axis] ?? []).includes(cell[axis]));
}

/** The cells and cases to run: matrix (or subset), filters, then what is available here. */
export function planMatrix(def: MatrixDefinition, options: PlanOptions): MatrixPlan {
  let cells = expandCells(def).map((cell) => ({ name: cellName(cell), cell, cases: casesForCell(def, cell, options.allCases) }));
  if (options.subset !== undefined) cells = applySubset(def, options.subset, cells);
  cells = applyFilters(cells, options.filters ?? []);
  const unavailable: UnavailableCell[] = [];
  const runnable = cells.filter((planned) => {
    const reason = AXES.map((axis) => options.unavailable?.(axis, planned.cell[axis])).find((r) => r !== undefined);
    if (reason !== undefined) unavailable.push({ name: planned.name, reason });
    return reason === undefined;
  });
  return { cells: runnable.filter((c) => c.cases.length > 0), unavailable };
}

function applySubset(def: MatrixDefinition, name: string, cells: PlannedCell[]): PlannedCell[] {
  const subset = def.subsets[name];
  if (!subset) throw new HarnessError(`no subset '${name}' in the matrix`, `known subsets: ${Object.keys(def.subsets).join(', ')}`);
  return subset.cells.map((cellText) => {
    const found = cells.find((c) => c.name === cellText);
    if (!found) throw new HarnessError(`subset '${name}' names cell ${cellText}, which the matrix's include/exclude rules do not produce`, 'fix cases/matrix/matrix.json');
    return { ...found, cases: subset.cases ? found.cases.filter((c) => subset.cases?.includes(c)) : found.cases };
  });
}

/** Keeps cells whose axes pass every filter (AND across filters, any listed value within one); `case=` filters cases. */
export function applyFilters(cells: readonly PlannedCell[], filters: readonly Filter[]): PlannedCell[] {
  return cells
    .filter((c) => filters.every((f) => f.key === 'case' || f.values.includes(c.cell[f.key])))
    .map((c) => ({ ...c, cases: c.cases.filter((name) => filters.every((f) => f.key !== 'case' || f.values.includes(name))) }))
    .filter((c) => c.cases.length > 0);
}

/** Parses `axis=value[,value…]`; the key is an axis or `case`, values must be known (cases are checked later). */
export function parseFilter(text: string, def: MatrixDefinition): Filter {
  const match = /^([a-z]+)=(.+)$/.exec(text.trim());
  const keys = [...AXES, 'case'];
  if (!match?.[1] || !match[2]) throw new HarnessError(`bad filter '${text}'`, `write AXIS=VALUE[,VALUE…] with AXIS one of ${keys.join(', ')}`);
  const key = match[1];
  if (!keys.includes(key)) throw new HarnessError(`bad filter '${text}': '${key}' is not an axis`, `use one of ${keys.join(', ')}`);
  const values = match[2].split(',').map((v) => v.trim()).filter((v) => v.length > 0);
  if (key !== 'case') {
    const known = def.axes[key as Axis];
    const unknown = values.filter((v) => !known.includes(v));
    if (unknown.length > 0) throw new HarnessError(`bad filter '${text}': ${unknown.join(', ')} not a value of ${key}`, `values: ${known.join(', ')}`);
  }
  return { key: key as Axis | 'case', values };
}

/** A single cell by name with the cases the matrix gives it (all cases when the matrix does not define the cell). */
export function planOneCell(def: MatrixDefinition, name: string, allCases: readonly string[]): PlannedCell & { inMatrix: boolean } {
  const cell = parseCellName(name, def.axes);
  const canonical = cellName(cell);
  const inMatrix = expandCells(def).some((c) => cellName(c) === canonical);
  return { name: canonical, cell, cases: casesForCell(def, cell, allCases), inMatrix };
}

function product(lists: readonly (readonly string[])[]): Cell[] {
  let rows: string[][] = [[]];
  for (const list of lists) rows = rows.flatMap((row) => list.map((v) => [...row, v]));
  return rows.map((row) => Object.fromEntries(AXES.map((axis, i) => [axis, row[i] as string])) as Cell);
}
