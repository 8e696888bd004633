import { SOFT_RESERVED_NAME } from '../core/memmap-types.ts';
import type { ObservedFacts } from '../core/vocabulary.ts';
import type { QmpFacts } from '../check/observations.ts';
import type { LaunchOutcome } from '../check/refusal.ts';
import { flattenIomem } from '../parse/iomem.ts';
import type { SerialLog } from '../parse/log.ts';

/**
 * What a booted run observed, as a report records it: QMP's answers and, when
 * the guest program ran to its end, the guest's view (soft-reserved ranges, DAX
 * devices, MemTotal per node). Facts only: nothing here is judged.
 */
export function observedFromBoot(log: SerialLog, qmp: QmpFacts): ObservedFacts {
  const { memdevs, nodes, memoryDevices, pluggedMemory } = qmp;
  const guest = guestView(log);
  return { qmp: { memdevs, nodes, memoryDevices, pluggedMemory }, ...(guest ? { guest } : {}) };
}

/** QEMU's startup verdict for a refusal case: refused (with its first line of error) or started. */
export function observedFromLaunch(outcome: LaunchOutcome): ObservedFacts {
  if (!outcome.refused) return { refusal: { refused: false } };
  const said = (outcome.qemuMessage || outcome.stderr).trim().split('\n')[0];
  return { refusal: { refused: true, ...(said ? { message: said } : {}) } };
}

function guestView(log: SerialLog): ObservedFacts['guest'] {
  const guest = log.guest;
  if (!guest.done) return undefined;
  return {
    iomemSoftReserved: flattenIomem(guest.iomem ?? []).filter(({ node }) => node.name === SOFT_RESERVED_NAME).map(({ node: { start, end } }) => ({ start, end })),
    firmwareMemmapSoftReserved: (guest.firmwareMemmap ?? []).filter((row) => row.type === SOFT_RESERVED_NAME).map(({ start, end }) => ({ start, end })),
    dax: (guest.dax ?? []).map(({ targetNode, size }) => ({ ...(targetNode === undefined ? {} : { targetNode }), ...(size === undefined ? {} : { size }) })),
    nodeMemTotal: Object.entries(guest.nodeMeminfo ?? {}).flatMap(([node, info]) => {
      const bytes = info.bytes.MemTotal;
      return bytes === undefined ? [] : [{ node: Number(node), bytes }];
    }),
  };
}
