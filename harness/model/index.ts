/**
 * The layout model and the expectation engine. `expectationsFor(spec, config)`
 * (expectations.ts) is the one place a case and a configuration become the
 * rows, refusal or guest view a run must show; predictLayout (layout.ts) is
 * the model of QEMU, firmware and kernel it rests on; traits.json the per-axis
 * facts both read.
 */
export { expectationsFor } from './expectations.ts';
export type { CaseExpectation, Configuration, SoftReservedCheck } from './case-expectation.ts';
export { describeView } from './explain.ts';
export { DEFAULT_CASE_REVISION } from './own-configuration.ts';
export { typedNodes, usesMemmapType, usesSpMem, type TypedNode } from './typed-nodes.ts';
export { predictLayout } from './layout.ts';
export { caseAppliesTo, layoutInputFromCase, predictCase } from './from-case.ts';
export { firmwareTraits, type FirmwareTraits } from './firmware.ts';
export { getProfile, loadProfiles, profileForQemuLabel, profileForSeries, PROFILES_FILE, type RevisionProfile } from '../traits/profiles.ts';
export { loadTraits, traitOf, TRAITS_FILE, type SpmView, type Traits } from '../traits/traits.ts';
export type { TypedMemmap } from '../core/memmap-types.ts';
export { belowFourGSize, E820 } from './qemu.ts';
export type { E820Row, LayoutInput, LayoutPrediction, NodeLayout, Prediction, RefusalPrediction, SratRow, UnsupportedPrediction } from './types.ts';
