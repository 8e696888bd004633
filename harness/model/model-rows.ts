/** The layout model's E820 and SRAT rows for a case on a configuration, in the scope the case states them. */
import type { CaseSpec, E820Expectation, MachineType } from '../case/types.ts';
import type { RevisionProfile } from '../traits/profiles.ts';
import { rowsInScope } from '../core/e820-scope.ts';
import { underivable, withExpect, type CaseExpectation, type Configuration } from './case-expectation.ts';
import { layoutInputFromCase } from './from-case.ts';
import { predictLayout } from './layout.ts';
import type { LayoutPrediction, Prediction } from './types.ts';

/** The model's rows for the configuration, in the scope the case states them. */
export function modelRows(spec: CaseSpec, config: Configuration, profile: RevisionProfile, out: CaseExpectation): CaseExpectation {
  const stated = out.spec.expect;
  const prediction = predict(spec, config.machine, config.firmware, profile);
  if (prediction.kind === 'unsupported') return out;
  if (prediction.kind === 'refusal') {
    return withExpect({ ...out, summary: [`QEMU refuses: ${prediction.expectation.rule}`], reasons: [prediction.reason] }, { refusal: prediction.expectation });
  }
  const e820 = stated.e820 && scoped(prediction, stated.e820.scope);
  if (e820 === null) return underivable(out, `${spec.name}: its e820 rows cover the whole table, but on ${config.firmware} the layout model draws only the part above 4 GiB (the firmware lays out the rest its own way)`);
  return withExpect(out, { ...stated, ...(e820 ? { e820 } : {}), ...(stated.srat ? { srat: prediction.srat } : {}) });
}

/** The prediction's E820 rows within `scope`; null when the model does not draw that much. */
export function scoped(prediction: LayoutPrediction, scope: E820Expectation['scope']): E820Expectation | null {
  if (scope === 'all' && prediction.e820.scope !== 'all') return null;
  return { scope, rows: rowsInScope(prediction.e820.rows, scope) };
}

/** The layout model's prediction for the case moved to `machine` and `firmware`. */
export function predict(spec: CaseSpec, machine: MachineType, firmware: string, profile: RevisionProfile): Prediction {
  return predictLayout(layoutInputFromCase({ ...spec, machine }, firmware, profile));
}
