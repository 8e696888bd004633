import { HarnessError } from '../util/errors.ts';
import { AXES, OPTIONAL_AXES, type Axis, type Cell } from './types.ts';

/**
 * A cell's name: its axis values joined by dots in AXES order, e.g.
 * `v5.q35.ovmf-sid.bookworm-6.1.memfd.unix`, the interface only when it is not
 * the default (`….unix.sp-mem`), and the accelerator only when it is not tcg
 * (`….unix.kvm`, `….unix.sp-mem.kvm`). Values may hold dots themselves
 * (`bookworm-6.1`), so a name is parsed against the known values, not split.
 * Only [a-z0-9.-] appear: safe in file names and GitHub artifact names.
 */
export function cellName(cell: Cell): string {
  return AXES.filter((axis) => OPTIONAL_AXES[axis] === undefined || cell[axis] !== OPTIONAL_AXES[axis]).map((axis) => cell[axis]).join('.');
}

/** The characters an axis value may use (also what GitHub artifact names accept). */
export const VALUE_PATTERN = /^[a-z0-9][a-z0-9.-]*$/;

export class CellNameError extends HarnessError {}

/** Parses a cell name back into its axes; throws naming the first part that is no known value. */
export function parseCellName(name: string, axes: Readonly<Record<Axis, readonly string[]>>): Cell {
  const cell: Partial<Record<Axis, string>> = {};
  let rest = name.trim();
  AXES.forEach((axis, i) => {
    const last = i === AXES.length - 1;
    const fallback = OPTIONAL_AXES[axis];
    const value = axes[axis].find((v) => rest === v || (!last && rest.startsWith(`${v}.`)));
    // An optional axis left out: its default, and the rest is for the axes after it.
    if (value === undefined && fallback !== undefined && (rest === '' || AXES.slice(i + 1).some((later) => axes[later].some((v) => rest === v || rest.startsWith(`${v}.`))))) {
      cell[axis] = fallback;
      return;
    }
    if (value === undefined) {
      const shown = rest.length > 0 ? `'${rest}'` : 'nothing';
      throw new CellNameError(`cell '${name}': expected a ${axis} (${axes[axis].join(', ')}) at ${shown}`, `a cell name is ${AXES.join('.')}, e.g. v5.q35.ovmf-sid.bookworm-6.1.memfd.unix`);
    }
    cell[axis] = value;
    rest = rest.slice(value.length + 1);
  });
  return cell as Cell;
}

/**
 * Values that would make names ambiguous: on one axis, `a` and `a.b…` (after
 * `a.` the parser could not tell the value from the next axis).
 */
export function ambiguousValues(values: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (const a of values) for (const b of values) if (a !== b && b.startsWith(`${a}.`)) pairs.push([a, b]);
  return pairs;
}
