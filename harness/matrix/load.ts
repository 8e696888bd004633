import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../util/paths.ts';
import { loadTraits, TRAITS_FILE } from '../traits/traits.ts';
import { ACCELERATORS } from '../util/accel.ts';
import { HarnessError } from '../util/errors.ts';
import { ambiguousValues, parseCellName, VALUE_PATTERN } from './name.ts';
import { AXES, INTERFACES, type Axis, type AxisSelection, type MatrixDefinition } from './types.ts';

/** Where the matrix definition lives. */
export const MATRIX_FILE = join(REPO_ROOT, 'cases', 'matrix', 'matrix.json');

export class MatrixFileError extends HarnessError {}

/** Values the harness itself knows for the axes it does not look up elsewhere. */
const FIXED_VALUES: Partial<Record<Axis, readonly string[]>> = {
  machine: ['q35', 'pc'],
  backend: ['ram', 'memfd', 'file'],
  transport: ['unix', 'websocket'],
  interface: INTERFACES,
  accel: ACCELERATORS,
};

const TRAIT_SECTIONS = ['revisions', 'machines', 'firmware', 'kernels'] as const;

/**
 * Reads and validates cases/matrix/matrix.json (or another file of that
 * shape), with the per-axis traits of harness/traits/traits.json. Throws
 * MatrixFileError naming the first bad field.
 */
export async function loadMatrix(path: string = MATRIX_FILE): Promise<MatrixDefinition> {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new MatrixFileError(`${path}: ${(error as Error).message}`, 'fix the matrix file');
  }
  const stray = TRAIT_SECTIONS.find((section) => typeof data === 'object' && data !== null && section in data);
  if (stray) throw new MatrixFileError(`${path}: '${stray}' belongs in ${TRAITS_FILE}`, 'per-axis traits are stated once, where run and the matrix both read them');
  const traits = loadTraits();
  return validateMatrix({ ...data, revisions: traits.revisions, machines: traits.machines, firmware: traits.firmware, kernels: traits.kernels }, path);
}

/** Checks the definition's shape and cross-references; throws one error naming the first bad field. */
export function validateMatrix(data: unknown, where: string): MatrixDefinition {
  const fail = (field: string, what: string): never => {
    throw new MatrixFileError(`${where}: ${field} ${what}`, 'see harness/matrix/types.ts for the format');
  };
  const m = data as MatrixDefinition;
  if (typeof m !== 'object' || m === null) fail('the file', 'is not a JSON object');
  checkAxes(m, fail);
  if (m.cases !== 'all' && !isStringList(m.cases)) fail('cases', 'must be "all" or a list of case names');
  if (!Array.isArray(m.include) || m.include.length === 0) fail('include', 'must be a non-empty list of groups');
  m.include.forEach((g, i) => checkSelection(m, g, `include[${i}]`, fail));
  if (!Array.isArray(m.exclude)) fail('exclude', 'must be a list of rules');
  m.exclude.forEach((r, i) => {
    checkSelection(m, r, `exclude[${i}]`, fail);
    if (r.cases !== undefined && !isStringList(r.cases)) fail(`exclude[${i}].cases`, 'must be a list of case names');
  });
  for (const [name, subset] of Object.entries(m.subsets ?? {})) {
    if (!isStringList(subset.cells)) fail(`subsets.${name}.cells`, 'must be a list of cell names');
    for (const cell of subset.cells) {
      try {
        parseCellName(cell, m.axes);
      } catch (error) {
        fail(`subsets.${name}.cells`, (error as Error).message);
      }
    }
  }
  checkBehaviours(m, fail);
  return m;
}

function checkAxes(m: MatrixDefinition, fail: (f: string, w: string) => never): void {
  if (typeof m.axes !== 'object' || m.axes === null) fail('axes', 'must be an object');
  for (const axis of AXES) {
    const values = m.axes[axis];
    if (!isStringList(values) || values.length === 0) fail(`axes.${axis}`, 'must be a non-empty list');
    for (const v of values) if (!VALUE_PATTERN.test(v)) fail(`axes.${axis}`, `value '${v}' must be lower-case letters, digits, dots and dashes`);
    const fixed = FIXED_VALUES[axis];
    for (const v of values) if (fixed && !fixed.includes(v)) fail(`axes.${axis}`, `value '${v}' is not one of ${fixed.join(', ')}`);
    const clash = ambiguousValues(values)[0];
    if (clash) fail(`axes.${axis}`, `values '${clash[0]}' and '${clash[1]}' make cell names ambiguous`);
  }
  for (const key of Object.keys(m.axes)) if (!(AXES as readonly string[]).includes(key)) fail(`axes.${key}`, `is not an axis (${AXES.join(', ')})`);
}

function checkSelection(m: MatrixDefinition, s: AxisSelection & { why?: unknown }, at: string, fail: (f: string, w: string) => never): void {
  if (typeof s.why !== 'string' || s.why.length === 0) fail(`${at}.why`, 'must say why');
  for (const axis of AXES) {
    const values = s[axis];
    if (values === undefined) continue;
    if (!isStringList(values)) fail(`${at}.${axis}`, 'must be a list');
    for (const v of values) if (!m.axes[axis].includes(v)) fail(`${at}.${axis}`, `'${v}' is not a value of axis ${axis}`);
  }
}

/** Every axis value has its traits (their shape is checked where they are read: harness/traits/traits.ts). */
function checkBehaviours(m: MatrixDefinition, fail: (f: string, w: string) => never): void {
  const sections = { revision: m.revisions, machine: m.machines, firmware: m.firmware, kernel: m.kernels } as const;
  for (const [axis, section] of Object.entries(sections)) {
    for (const value of m.axes[axis as keyof typeof sections]) {
      if (section?.[value] === undefined) fail(`axes.${axis}`, `value '${value}' has no traits in ${TRAITS_FILE}`);
    }
  }
  if (typeof m.backends?.reason !== 'string') fail('backends.reason', 'must say why the backend does not change the expectations');
  if (typeof m.transports?.reason !== 'string') fail('transports.reason', 'must say why the transport does not change the expectations');
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
