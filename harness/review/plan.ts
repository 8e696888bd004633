import { loadCases } from '../case/load.ts';
import { loadCaseSet } from '../case/sets.ts';
import type { CaseSpec } from '../case/types.ts';
import { caseAppliesTo } from '../model/from-case.ts';
import type { InterfaceReport } from '../interface/classify.ts';
import type { PlanEntry } from '../compare/run-sides.ts';
import { CASES_DIR } from '../util/paths.ts';

/**
 * The firmware a review runs on: the harness's default (qboot, the default
 * set's: fastest under TCG, passes spm and reserved through), one OVMF (sid's,
 * which the seed was written for) and one SeaBIOS (bookworm's, which drops the
 * soft-reserved type: a different guest view, recorded in the model).
 */
export const REVIEW_FIRMWARE = { default: 'qboot', ovmf: 'ovmf-sid', seabios: 'seabios-bookworm' } as const;

/**
 * The guest kernel of every review run: the harness's own minimal 6.1 (the
 * seed cases' own; about four times faster to boot under TCG than Debian's,
 * which the layout and negative case files name).
 */
export const REVIEW_KERNEL = 'minimal-6.1';

/**
 * Layout-model cases a review adds to the seed's: a typed node between two
 * normal ones, a reserved node on pc (SeaBIOS-style low memory), and a split
 * of low memory below 4 GiB. Each on the default firmware only: the seed
 * cases already cover the firmware.
 */
export const REVIEW_LAYOUTS = ['layout-3node-spm-middle-q35', 'layout-reserved-pc', 'layout-split-pc-3328m'] as const;

/** The cases and firmware a review runs, and why, in words for review.md. */
export interface ReviewPlan {
  entries: PlanEntry[];
  why: string[];
}

/**
 * Picks what a series' interface can run:
 * - memmap-type (any form): the seed's three cases on every review firmware,
 *   the layouts and the negative set on the default firmware (a refusal happens
 *   before any firmware runs);
 * - -device sp-mem: sp-mem-seed on every review firmware, the rest of the sp-mem
 *   set on the default firmware;
 * - neither: the seed's cases, which then say
 *   `unsupported` (and the review says the series implements neither).
 */
export async function reviewPlan(
  report: Pick<InterfaceReport, 'interfaces'>,
  firmware: readonly string[] = Object.values(REVIEW_FIRMWARE),
  /** The series' probed revision: cases about other revisions only (a baseline refusal) are left out. */
  profile?: string,
  casesDir = CASES_DIR,
): Promise<ReviewPlan> {
  const [primary = REVIEW_FIRMWARE.default] = firmware;
  const everywhere = (names: readonly string[]) => load(names, firmware);
  const once = (names: readonly string[]) => load(names, [primary]);
  const about = (spec: CaseSpec) => profile === undefined || caseAppliesTo(spec, profile);
  const load = async (names: readonly string[], on: readonly string[]) =>
    (await loadCases(casesDir, [...names])).filter(about).flatMap((spec) => on.map((f) => ({ spec, firmware: f, kernel: REVIEW_KERNEL })));
  const entries: PlanEntry[] = [];
  const why: string[] = [];
  const seed = await loadCaseSet(casesDir, 'default');
  const memmapType = report.interfaces.memmapType !== 'absent';
  const spMem = report.interfaces.spMem === 'present';
  if (memmapType || !spMem) {
    entries.push(...(await everywhere(seed)));
    why.push(`the seed's cases (${seed.join(', ')}) on ${firmware.join(', ')}`);
  }
  if (memmapType) {
    entries.push(...(await once(REVIEW_LAYOUTS)));
    why.push(`layouts (${REVIEW_LAYOUTS.join(', ')}) on ${primary}`);
    const negatives = await loadCaseSet(casesDir, 'negative');
    entries.push(...(await once(negatives)));
    why.push(`the negative set's cases about this revision on ${primary} (QEMU refuses before any firmware runs)`);
  }
  if (spMem) {
    const set = await loadCaseSet(casesDir, 'sp-mem');
    entries.push(...(await everywhere(['sp-mem-seed'])));
    entries.push(...(await once(set.filter((n) => n !== 'sp-mem-seed'))));
    why.push(`sp-mem-seed on ${firmware.join(', ')}; the rest of the sp-mem set on ${primary}`);
  }
  return { entries, why };
}
