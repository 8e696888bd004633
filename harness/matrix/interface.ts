/**
 * The matrix's interface axis: a case written for the series' memmap-type,
 * expressed in upstream's `-device sp-mem` form for the sp-mem cells.
 */
import type { CaseSpec, Expectations, FirmwareVariant } from '../case/types.ts';
import { HarnessError } from '../util/errors.ts';
import { parseSize, toQemuSize } from '../util/size.ts';
import { DEFAULT_INTERFACE } from './types.ts';

/**
 * `spec` as the interface states it. sp-mem: each spm node becomes a CPU-only
 * node plus a `-device sp-mem` of the same size and backend on it (the harness
 * adds maxmem/slots); its rows come from the layout model, its guest view is
 * the case's own. Throws HarnessError for a case with no spm node or with
 * another memmap-type (sp-mem has no form for them; the matrix excludes them).
 */
export function caseInInterface(spec: CaseSpec, iface: string): CaseSpec {
  if (iface === DEFAULT_INTERFACE) return spec;
  if (iface !== 'sp-mem') throw new HarnessError(`unknown interface '${iface}'`, `use ${DEFAULT_INTERFACE} or sp-mem`);
  const spm = spec.nodes.filter((n) => n.memmapType === 'spm');
  const other = spec.nodes.find((n) => n.memmapType !== undefined && n.memmapType !== 'spm');
  if (spm.length === 0 || other || spec.expect.refusal) {
    throw new HarnessError(`${spec.name} has no sp-mem form: it needs spm nodes and nothing else typed, and no refusal`, 'exclude it from the sp-mem cells in cases/matrix/matrix.json');
  }
  const moved = spm.reduce((sum, n) => sum + parseSize(n.size), 0n);
  return {
    ...spec,
    memory: toQemuSize(parseSize(spec.memory) - moved),
    nodes: spec.nodes.map((n) => (n.memmapType === 'spm' ? { id: n.id, cpus: n.cpus, backend: n.backend, size: '0', memdev: false } : n)),
    devices: spm.map((n) => ({ kind: 'sp-mem', node: n.id, backend: n.backend, size: n.size })),
    expect: guestOnly(spec.expect),
    ...(spec.onFirmware ? { onFirmware: Object.fromEntries(Object.entries(spec.onFirmware).map(([id, v]): [string, FirmwareVariant] => [id, { reason: v.reason, expect: guestOnly(v.expect) }])) } : {}),
    // The model's rows for upstream's device, not the memmap-type revision's.
    revision: 'baseline',
  };
}

/** The model gives the rows and the device's QMP view; the guest's view stays as the case states it. */
function guestOnly(expect: Expectations): Expectations {
  return { model: true, ...(expect.guest ? { guest: expect.guest } : {}) };
}
