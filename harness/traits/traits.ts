/**
 * Per-axis traits (harness/traits/traits.json), the one place they are
 * stated: what each patch revision does, where each machine splits RAM, which
 * E820 types each firmware passes on, and what each kernel does with a
 * soft-reserved range. The layout model, the expectation engine, `run` and
 * the matrix all read them from here; reports show the reasons.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TYPED_MEMMAPS, type TypedMemmap } from '../core/memmap-types.ts';
import { HarnessError } from '../util/errors.ts';
import { REPO_ROOT } from '../util/paths.ts';

/** The traits file the project ships. */
export const TRAITS_FILE = join(REPO_ROOT, 'harness', 'traits', 'traits.json');

/** What one revision of the memmap-type interface does. */
export interface RevisionTraits {
  /** How reports name it: `v6+`. */
  label: string;
  description: string;
  /** Series directory relative to the repository root; null for the unpatched baseline. */
  series: string | null;
  /** false: QEMU does not know the option at all (the harness says "unsupported"). */
  memmapTypeSupported: boolean;
  /** memmap-type on a node without memdev= is refused. */
  memmapNeedsMemdev: boolean;
  /** A reserved node gets no SRAT memory affinity rows (the address layout of later nodes is unchanged). */
  reservedLeavesSrat: boolean;
  /** The revision's QEMU has -device sp-mem (the matrix's sp-mem interface cells); absent = not known, the probe decides. */
  spMemSupported?: boolean;
  /** A QEMU source spec that gives this revision (a debian-bin: binary) instead of the matrix's --source. */
  source?: string;
  reason: string;
}

/** Where a machine type splits guest RAM around the PCI hole. */
export interface MachineTraits {
  /** RAM at or above this size is split: `lowMemory` below 4 GiB, the rest from 4 GiB. */
  splitAt: string;
  lowMemory: string;
  reason: string;
}

/** Which of QEMU's typed E820 entries a firmware hands on to the guest. */
export interface FirmwareTypeTraits {
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

export interface KernelTraits {
  whenSpmReachesGuest: SpmView;
  reason: string;
  /**
   * The kernel source line `iomemSoftReserved` rests on: where the kernel
   * puts a Soft Reserved E820 range into /proc/iomem's tree, or sets it aside
   * until a driver claims it (file:line in that version, function, statement).
   */
  iomemSource: string;
}

/** The SRAT memory affinity flag rules (model/qemu-tables.ts). */
export const SRAT_FLAG_RULES = ['nodeRam', 'padding', 'deviceMemory', 'spMem'] as const;
export type SratFlagRuleId = (typeof SRAT_FLAG_RULES)[number];
const SRAT_FLAG_WORDS = ['enabled', 'hotpluggable', 'non-volatile'];

/** The flags QEMU gives one kind of SRAT memory affinity structure, the source line it mirrors, and the evidence. */
export interface SratFlagRule {
  flags: string[];
  mirrors: string;
  evidence: string[];
}

/** The whole traits file. */
export interface Traits {
  revisions: Record<string, RevisionTraits>;
  machines: Record<string, MachineTraits>;
  firmware: Record<string, FirmwareTypeTraits>;
  kernels: Record<string, KernelTraits>;
  sratFlags: Record<SratFlagRuleId, SratFlagRule>;
}

const cache = new Map<string, Traits>();

/** The traits, validated, read once per path. Throws HarnessError for an unreadable or malformed file. */
export function loadTraits(path = TRAITS_FILE): Traits {
  let traits = cache.get(path);
  if (!traits) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new HarnessError(`${path}: ${(error as Error).message}`, 'fix the traits file');
    }
    traits = checkTraits(data, path);
    cache.set(path, traits);
  }
  return traits;
}

/** One axis value's traits; throws HarnessError naming the known values. */
export function traitOf<K extends Exclude<keyof Traits, 'sratFlags'>>(axis: K, value: string, path = TRAITS_FILE): Traits[K][string] {
  const table = loadTraits(path)[axis];
  const found = table[value];
  if (found === undefined) throw new HarnessError(`${path} has no ${axis} '${value}'`, `known: ${Object.keys(table).join(', ')}`);
  return found as Traits[K][string];
}

/** The flag rule of one kind of SRAT memory affinity structure. */
export function sratFlagRule(id: SratFlagRuleId, path = TRAITS_FILE): SratFlagRule {
  return loadTraits(path).sratFlags[id];
}

/** `0x…` or a plain byte count. */
export function parseAddress(text: string): bigint {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new HarnessError(`'${text}' is not an address`, 'write 0x… or a byte count');
  return BigInt(text);
}

const VIEW_FLAGS = ['iomemSoftReserved', 'firmwareMemmapSoftReserved', 'daxDevice', 'onlined'] as const;
const REVISION_FLAGS = ['memmapTypeSupported', 'memmapNeedsMemdev', 'reservedLeavesSrat'] as const;

function checkTraits(data: unknown, where: string): Traits {
  const fail = (field: string, what: string): never => {
    throw new HarnessError(`${where}: ${field} ${what}`, 'see harness/traits/traits.ts for the format');
  };
  const t = data as Traits;
  for (const axis of ['revisions', 'machines', 'firmware', 'kernels'] as const) {
    if (typeof t?.[axis] !== 'object' || t[axis] === null || Object.keys(t[axis]).length === 0) fail(axis, 'must be a non-empty object');
  }
  for (const [id, r] of Object.entries(t.revisions)) {
    if (!/^[a-z0-9][a-z0-9.+-]*$/.test(id)) fail(`revisions.${id}`, 'must be a short lower-case id');
    if (typeof r.label !== 'string' || typeof r.description !== 'string' || typeof r.reason !== 'string') fail(`revisions.${id}`, 'must give label, description and reason');
    if (r.series !== null && typeof r.series !== 'string') fail(`revisions.${id}.series`, 'must be a directory or null');
    for (const flag of REVISION_FLAGS) if (typeof r[flag] !== 'boolean') fail(`revisions.${id}.${flag}`, 'must be true or false');
    if (r.spMemSupported !== undefined && typeof r.spMemSupported !== 'boolean') fail(`revisions.${id}.spMemSupported`, 'must be true or false');
    if (r.source !== undefined && (typeof r.source !== 'string' || r.series !== null)) fail(`revisions.${id}.source`, 'must be a QEMU source spec, and only for a revision without a series');
  }
  for (const [id, m] of Object.entries(t.machines)) {
    if (typeof m.reason !== 'string') fail(`machines.${id}`, 'must give splitAt, lowMemory and a reason');
    try {
      parseAddress(m.splitAt);
      parseAddress(m.lowMemory);
    } catch {
      fail(`machines.${id}`, 'splitAt and lowMemory must be 0x addresses');
    }
  }
  for (const [id, f] of Object.entries(t.firmware)) {
    for (const type of TYPED_MEMMAPS) {
      if (typeof f?.passes?.[type] !== 'boolean' || typeof f.reason?.[type] !== 'string') fail(`firmware.${id}`, `must say whether it passes ${type} through, and why`);
    }
  }
  for (const id of SRAT_FLAG_RULES) {
    const rule = t.sratFlags?.[id];
    if (!rule || !Array.isArray(rule.flags) || rule.flags.some((f) => !SRAT_FLAG_WORDS.includes(f))) fail(`sratFlags.${id}`, `must list its flags (of ${SRAT_FLAG_WORDS.join(', ')})`);
    if (typeof rule.mirrors !== 'string' || !Array.isArray(rule.evidence) || rule.evidence.length === 0) fail(`sratFlags.${id}`, 'must name the QEMU source it mirrors and its evidence');
  }
  for (const [id, k] of Object.entries(t.kernels)) {
    const view = k?.whenSpmReachesGuest;
    if (!view || VIEW_FLAGS.some((f) => typeof view[f] !== 'boolean') || typeof k.reason !== 'string') fail(`kernels.${id}`, `must give whenSpmReachesGuest {${VIEW_FLAGS.join(', ')}} and a reason`);
    if (typeof k.iomemSource !== 'string' || !/^[\w/.-]+\.c(:\d+)? /.test(k.iomemSource)) fail(`kernels.${id}.iomemSource`, 'must name the kernel source line (file.c[:line] function: statement) that decides whether /proc/iomem shows Soft Reserved');
  }
  return t;
}
