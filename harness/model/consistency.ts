/**
 * Whether the model and the traits reproduce what a case states on its own
 * configurations: only then may they carry its rows, guest view and use
 * expectations to other configurations. Each check says why not, or nothing.
 */
import { statedExpectations } from '../case/on-firmware.ts';
import type { CaseSpec, Expectations, GuestExpectation, UseExpectation } from '../case/types.ts';
import { diffRows, formatRowChanges } from '../core/row-changes.ts';
import { getProfile } from '../traits/profiles.ts';
import { traitOf, type SpmView } from '../traits/traits.ts';
import { deriveGuest, deriveUse } from './guest-view.ts';
import { predict, scoped } from './model-rows.ts';
import type { OwnConfiguration } from './own-configuration.ts';
import { typedNodes, type TypedNode } from './typed-nodes.ts';

/**
 * Why the model cannot stand in for the case's rows: it does not reproduce
 * them on one of the case's own configurations. Undefined when it does.
 */
export function modelMismatch(spec: CaseSpec, own: OwnConfiguration): string | undefined {
  const profile = getProfile(own.revision);
  for (const firmware of own.firmwares) {
    const stated = statedExpectations(spec, firmware).expect;
    if (stated.e820 === undefined && stated.srat === undefined) continue;
    const where = `${spec.name} on its own configuration (${own.machine}, ${firmware}, ${own.revision})`;
    const prediction = predict(spec, own.machine, firmware, profile);
    if (prediction.kind !== 'layout') return `${where}: the layout model predicts ${prediction.kind === 'refusal' ? `a refusal (${prediction.reason})` : 'unsupported'}, not the case's rows`;
    const e820 = stated.e820 && scoped(prediction, stated.e820.scope);
    if (e820 === null) return `${where}: the case states the whole e820 table, the layout model draws only the part above 4 GiB there`;
    const diff = [...(e820 && stated.e820 ? labelled('e820', diffRows(stated.e820.rows, e820.rows)) : []), ...(stated.srat ? labelled('srat', diffRows(stated.srat, prediction.srat)) : [])];
    if (diff.length > 0) return `${where}: the layout model does not reproduce the case's stated rows (${diff.join('; ')}), so it cannot carry them to other configurations`;
  }
  return undefined;
}

/** Why the kernel traits cannot stand in for the case's guest expectations on its own configurations; undefined when they can. */
export function guestMismatch(spec: CaseSpec, own: OwnConfiguration): string | undefined {
  return firstTraitsMismatch(spec, own, ({ guest }, firmware, typed, view) => {
    if (!guest) return undefined;
    const derived = deriveGuest(guest, typed, typed, traitOf('firmware', firmware).passes.spm, view);
    if (derived.checks.length === 0 && canonical(derived.guest) === canonical(guest)) return undefined;
    return `${spec.name} on its own configuration (${own.machine}, ${firmware}, ${own.kernel}): the kernel and firmware traits do not reproduce the case's guest expectations (${canonical(guest)} stated, ${canonical(derived.guest)} derived)`;
  });
}

/** Why the traits cannot carry the case's use expectations: they do not reproduce them on its own configurations. */
export function useMismatch(spec: CaseSpec, own: OwnConfiguration): string | undefined {
  return firstTraitsMismatch(spec, own, ({ use }, firmware, typed, view) => {
    if (!use) return undefined;
    const derived = deriveUse(use, typed, traitOf('firmware', firmware).passes.spm, view);
    const text = (u: readonly UseExpectation[] | undefined) => JSON.stringify(u && [...u].sort((a, b) => a.node - b.node).map(({ node, daxPattern, kmemOnline }) => ({ node, daxPattern, kmemOnline })));
    if (text(derived) === text(use)) return undefined;
    return `${spec.name} on its own configuration (${own.machine}, ${firmware}, ${own.kernel}): the kernel and firmware traits do not reproduce the case's use expectations (${text(use)} stated, ${text(derived) ?? 'not run'} derived)`;
  });
}

/** A traits check on one of the case's own firmwares: why they do not reproduce what the case states there, or undefined. */
type TraitsCheck = (stated: Expectations, firmware: string, typed: readonly TypedNode[], view: SpmView) => string | undefined;

/** The first of the case's own firmwares where `check` finds the traits do not reproduce the case. */
function firstTraitsMismatch(spec: CaseSpec, own: OwnConfiguration, check: TraitsCheck): string | undefined {
  const typed = typedNodes(spec, own.machine);
  const view = traitOf('kernels', own.kernel).whenSpmReachesGuest;
  for (const firmware of own.firmwares) {
    const why = check(statedExpectations(spec, firmware).expect, firmware, typed, view);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** Row-change lines prefixed with their table's name. */
function labelled(table: string, changes: Parameters<typeof formatRowChanges>[0]): string[] {
  return formatRowChanges(changes).map((line) => `${table}: ${line.trim()}`);
}

/** A guest expectation as sorted JSON, for comparing two of them. */
function canonical(guest: GuestExpectation): string {
  return JSON.stringify({
    softReserved: guest.softReserved && [...guest.softReserved].sort(),
    dax: guest.dax && [...guest.dax].sort((a, b) => a.targetNode - b.targetNode),
    nodeMemTotal: guest.nodeMemTotal && [...guest.nodeMemTotal].sort((a, b) => a.node - b.node),
  });
}
