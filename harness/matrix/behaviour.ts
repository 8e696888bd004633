import { MEMMAP_E820_TYPE, SOFT_RESERVED_NAME, type TypedMemmap } from '../core/memmap-types.ts';
import { paddedRangeText, rangeText } from '../core/range-text.ts';
import { e820Code, e820Name } from '../core/vocabulary.ts';
import type { CaseExpectation } from '../model/case-expectation.ts';
import { describeView } from '../model/explain.ts';
import type { TypedNode } from '../model/typed-nodes.ts';
import { flattenIomem } from '../parse/iomem.ts';
import type { SerialLog } from '../parse/log.ts';
import type { Cell, SpmView } from './types.ts';

/**
 * Behaviour the matrix file states as a fact (a firmware passes or drops a
 * type; a kernel onlines soft-reserved memory or not), checked against what a
 * run shows. A difference is not an ordinary failure: the world changed (a
 * new firmware or kernel), and the traits file must be updated on purpose.
 */


/** What the guest's BIOS-e820 lines show for a typed node. */
export interface FirmwareObservation {
  /** `other`: the range is there with another type or other bounds (an ordinary failure, not a firmware fact). */
  seen: 'passes' | 'drops' | 'other';
  evidence: string;
}

/** Whether the firmware handed the node's typed E820 entry on to the guest. */
export function observeFirmware(log: SerialLog, node: TypedNode): FirmwareObservation {
  const overlapping = log.e820.filter((e) => node.ranges.some((r) => e.start <= r.end && e.end >= r.start));
  const shown = overlapping.map((e) => `[mem ${paddedRangeText(e)}] ${e.label}`).join(', ');
  if (overlapping.length === 0) return { seen: 'drops', evidence: `no BIOS-e820 row covers ${node.ranges.map(rangeText).join(', ')}` };
  const covered = node.ranges.every((r) => overlapping.some((e) => e.type === MEMMAP_E820_TYPE[node.type] && e.start <= r.start && e.end >= r.end));
  return { seen: covered ? 'passes' : 'other', evidence: `BIOS-e820 shows ${shown}` };
}

/** What the kernel made of a soft-reserved node it was given; undefined when the guest program never finished. */
export function observeSpmView(log: SerialLog, node: TypedNode): SpmView | undefined {
  const guest = log.guest;
  if (!guest.done) return undefined;
  const covers = (r: { start: bigint; end: bigint }) => node.ranges.every((n) => r.start <= n.start && r.end >= n.end);
  return {
    iomemSoftReserved: flattenIomem(guest.iomem ?? []).some(({ node: res }) => res.name === SOFT_RESERVED_NAME && covers(res)),
    firmwareMemmapSoftReserved: (guest.firmwareMemmap ?? []).some((row) => row.type === SOFT_RESERVED_NAME && covers(row)),
    daxDevice: (guest.dax ?? []).some((d) => d.targetNode === node.id && d.size === node.size),
    onlined: (guest.nodeMeminfo?.[node.id]?.bytes.MemTotal ?? 0n) > 0n,
  };
}

/** Loud messages for every stated fact the run contradicts; [] when none (or when the run shows too little to tell). */
export function detectChanges(cell: Cell, expectation: CaseExpectation, log: SerialLog): string[] {
  if (expectation.kind !== 'run' || log.e820.length === 0) return [];
  const messages: string[] = [];
  for (const node of expectation.typed) {
    const seen = observeFirmware(log, node);
    const stated = expectation.firmwarePasses[node.type];
    if (seen.seen === 'passes' && !stated) messages.push(firmwareChange(cell.firmware, node.type, 'now passes', seen.evidence, 'drops'));
    if (seen.seen === 'drops' && stated) messages.push(firmwareChange(cell.firmware, node.type, 'no longer passes', seen.evidence, 'passes'));
    if (node.type !== 'spm' || seen.seen !== 'passes') continue;
    const view = observeSpmView(log, node);
    if (view && !sameView(view, expectation.kernelView)) {
      messages.push(
        `BEHAVIOUR CHANGED: kernel ${cell.kernel} now shows ${describeView(view)} for soft-reserved node ${node.id} (${node.ranges.map(rangeText).join(', ')}); ` +
          `harness/traits/traits.json says ${describeView(expectation.kernelView)}: update kernels.${cell.kernel}.whenSpmReachesGuest and its reason`,
      );
    }
  }
  return messages;
}

function firmwareChange(firmware: string, type: TypedMemmap, change: string, evidence: string, stated: string): string {
  return `BEHAVIOUR CHANGED: firmware ${firmware} ${change} ${typeText(type)} through (${evidence}); harness/traits/traits.json says it ${stated} it: update firmware.${firmware}.passes.${type} and its reason`;
}

function sameView(a: SpmView, b: SpmView): boolean {
  return a.iomemSoftReserved === b.iomemSoftReserved && a.firmwareMemmapSoftReserved === b.firmwareMemmapSoftReserved && a.daxDevice === b.daxDevice && a.onlined === b.onlined;
}

/** `soft reserved (E820 type 0xEFFFFFFF)`: a typed memmap's E820 type in words. */
function typeText(type: TypedMemmap): string {
  const code = MEMMAP_E820_TYPE[type];
  return `${e820Name(code)} (E820 type ${e820Code(code)})`;
}
