/**
 * The guest's view on a configuration other than the one a case states it
 * for, from the firmware and kernel traits: what /proc/iomem, /sys and dax
 * show of spm nodes, and what the use steps (dax-pattern, kmem-online) can do.
 */
import { statedExpectations } from '../case/on-firmware.ts';
import type { CaseSpec, GuestExpectation, UseExpectation } from '../case/types.ts';
import { rangeText } from '../core/range-text.ts';
import { traitOf, type SpmView } from '../traits/traits.ts';
import { sameItems } from '../util/multiset.ts';
import { toQemuSize } from '../util/size.ts';
import { withExpect, type CaseExpectation, type SoftReservedCheck } from './case-expectation.ts';
import { ownConfiguration } from './own-configuration.ts';
import { typedNodes, type TypedNode } from './typed-nodes.ts';

/** A model case's stated guest view (written for its own machine, firmware and kernel) carried to the configuration by the traits. */
export function modelGuest(spec: CaseSpec, out: CaseExpectation): CaseExpectation {
  const stated = out.spec.expect.guest;
  if (!stated) return out;
  const ownGuest = statedExpectations(spec, spec.firmware).expect.guest ?? stated;
  // Where the case states the view (its firmware or an onFirmware one, its kernel and machine) it stands as written.
  const own = ownConfiguration(spec);
  if (own.firmwares.includes(out.spec.firmware) && out.spec.kernel === own.kernel && out.spec.machine === own.machine) return out;
  return withUse(withGuest(out, ownGuest, typedNodes(spec, spec.machine)));
}

/** The expectation with the guest view `stated` (written where `statedTyped` lay) carried to its configuration by the traits. */
export function withGuest(out: CaseExpectation, stated: GuestExpectation, statedTyped: readonly TypedNode[]): CaseExpectation {
  const derived = deriveGuest(stated, statedTyped, out.typed, out.firmwarePasses.spm, out.kernelView, traitOf('kernels', out.spec.kernel).iomemSource);
  return withExpect({ ...out, softReservedChecks: derived.checks }, { ...out.spec.expect, guest: derived.guest });
}

/**
 * The guest's view of spm nodes, from whether the range reaches the kernel
 * (the firmware passes it) and what that kernel does with it: the stated
 * parts about spm nodes (where they lay on the case's own machine, `stated`)
 * are replaced; parts about other nodes stay. When the kernel lists Soft
 * Reserved in only one of /proc/iomem and /sys/firmware/memmap, each place
 * gets its own check.
 */
export function deriveGuest(stated: GuestExpectation, statedTyped: readonly TypedNode[], typed: readonly TypedNode[], reaches: boolean, view: SpmView, iomemSource?: string): { guest: GuestExpectation; checks: SoftReservedCheck[] } {
  const spm = typed.filter((t) => t.type === 'spm');
  if (spm.length === 0) return { guest: stated, checks: [] };
  const guest: GuestExpectation = { ...stated };
  const checks: SoftReservedCheck[] = [];
  if (stated.softReserved) {
    const ranges = spm.flatMap((n) => n.ranges.map(rangeText));
    const statedRanges = statedTyped.filter((t) => t.type === 'spm').flatMap((n) => n.ranges.map(rangeText));
    const others = stated.softReserved.filter((r) => !statedRanges.includes(r));
    const iomem = [...others, ...(reaches && view.iomemSoftReserved ? ranges : [])];
    const memmap = [...others, ...(reaches && view.firmwareMemmapSoftReserved ? ranges : [])];
    if (sameItems(iomem, memmap)) guest.softReserved = iomem;
    else {
      delete guest.softReserved;
      checks.push({ place: 'iomem', ranges: iomem, ...(iomemSource ? { source: iomemSource } : {}) }, { place: 'firmware-memmap', ranges: memmap });
    }
  }
  const ids = spm.map((n) => n.id);
  if (stated.dax) {
    const kept = stated.dax.filter((d) => !ids.includes(d.targetNode));
    guest.dax = [...kept, ...(reaches && view.daxDevice ? spm.map((n) => ({ targetNode: n.id, size: toQemuSize(n.size) })) : [])];
  }
  if (stated.nodeMemTotal) {
    const kept = stated.nodeMemTotal.filter((b) => !ids.includes(b.node));
    // kmem onlines the whole range; a little goes to the node's own struct pages.
    const bound = (n: TypedNode) => (reaches && view.onlined ? { node: n.id, min: toQemuSize((n.size * 15n) / 16n), max: toQemuSize(n.size) } : { node: n.id, max: '0' });
    guest.nodeMemTotal = [...kept, ...spm.map(bound)].sort((a, b) => a.node - b.node);
  }
  return { guest, checks };
}

/**
 * The use expectations on a configuration other than the case's own, from the
 * traits: an spm node whose range reaches a kernel that leaves it to
 * device-dax can be mapped and onlined; a node whose range is not soft
 * reserved there (reserved, or the firmware drops type 0xEFFFFFFF) has
 * nothing to map or online. A kernel that onlines the range through kmem at
 * boot leaves no device-dax node to map: the steps are not run there, and the
 * summary says why (its guest view's nodeMemTotal checks the onlining).
 */
export function withUse(out: CaseExpectation): CaseExpectation {
  const use = out.spec.expect.use;
  if (use === undefined || out.kind !== 'run') return out;
  const derived = deriveUse(use, out.typed, out.firmwarePasses.spm, out.kernelView);
  if (derived !== undefined) return withExpect(out, { ...out.spec.expect, use: derived });
  const { use: _dropped, ...expect } = out.spec.expect;
  const { use: _steps, ...spec } = out.spec;
  const why = `use steps not run on ${out.spec.kernel}: the kernel onlines a soft-reserved range through kmem at boot (traits), so there is no device-dax node to map; nodeMemTotal checks the onlining`;
  return { ...out, spec: { ...spec, expect }, summary: [...out.summary, 'use steps not run (kernel onlines at boot)'], reasons: [...out.reasons, why] };
}

/** The use expectations as the traits derive them; undefined: the kernel onlines the spm range itself, so the steps have nothing of their own to prove. */
export function deriveUse(stated: readonly UseExpectation[], typed: readonly TypedNode[], reaches: boolean, view: SpmView): UseExpectation[] | undefined {
  const spm = typed.filter((t) => t.type === 'spm');
  if (reaches && spm.length > 0 && view.onlined) return undefined;
  return stated.map((u) => {
    const node = typed.find((t) => t.id === u.node);
    if (node === undefined) return u;
    const works = node.type === 'spm' && reaches && view.daxDevice;
    return { node: u.node, ...(u.daxPattern === undefined ? {} : { daxPattern: works }), ...(u.kmemOnline === undefined ? {} : { kmemOnline: works }) };
  });
}
