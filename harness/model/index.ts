/** The layout model: expected E820/SRAT rows (or QEMU's refusal) per machine, RAM, nodes, firmware and patch revision. */
export { predictLayout } from './layout.ts';
export { caseAppliesTo, expectationsFromModel, layoutInputFromCase, predictCase, runExpectations } from './from-case.ts';
export { firmwareTraits, type FirmwareTraits } from './firmware.ts';
export { getProfile, loadProfiles, profileForQemuLabel, profileForSeries, PROFILES_FILE, type RevisionProfile } from './profiles.ts';
export { e820Line, sratLine } from './lines.ts';
export { belowFourGSize, E820 } from './qemu.ts';
export type { E820Row, LayoutInput, LayoutPrediction, NodeLayout, Prediction, RefusalPrediction, SratRow, UnsupportedPrediction } from './types.ts';
