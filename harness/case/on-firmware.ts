import type { CaseSpec, Expectations } from './types.ts';

/** The expectations a loaded case states for `firmware`: its onFirmware variant (resolved at load) or its own. */
export function statedExpectations(spec: CaseSpec, firmware: string): { expect: Expectations; variantReason?: string } {
  const variant = spec.onFirmware?.[firmware];
  return variant ? { expect: variant.expect, variantReason: variant.reason } : { expect: spec.expect };
}
