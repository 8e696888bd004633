/**
 * What QEMU's own tables (fw_cfg etc/e820, SRAT, HMAT) must hold for a run
 * that boots, from the layout model whatever the case states about the
 * kernel's rows; and, for a case with `hmat`, each node's access0 attributes
 * as the guest must show them.
 */
import type { CaseSpec } from '../case/types.ts';
import type { RevisionProfile } from '../traits/profiles.ts';
import { parseSize } from '../util/size.ts';
import type { CaseExpectation, Configuration } from './case-expectation.ts';
import { layoutInputFromCase } from './from-case.ts';
import { predictHmat, predictNodeAccess } from './hmat.ts';
import { predictLayout } from './layout.ts';
import { predictQemuTables } from './qemu-tables.ts';
import { belowFourGSize } from './qemu.ts';
import { linuxNodeNumbers, qemuSratEntries } from './srat.ts';

/** For a run that boots: the expectation with what QEMU's own tables must hold (and the HMAT's node access, for a case with `hmat`). */
export function withQemuTables(out: CaseExpectation, spec: CaseSpec, config: Configuration, profile: RevisionProfile | undefined): CaseExpectation {
  if (out.kind !== 'run' || out.spec.expect.refusal !== undefined) return out;
  if (!profile) return { ...out, qemuTablesUnknown: "no revision profile is known for this QEMU, so the model cannot say what its etc/e820 and SRAT hold" };
  const input = layoutInputFromCase({ ...spec, machine: config.machine }, config.firmware, profile);
  if (predictLayout(input).kind !== 'layout') return out;
  const tables = predictQemuTables(input);
  if (spec.hmat === undefined) return { ...out, qemuTables: tables };
  const hmat = predictHmat(spec.nodes, spec.hmat);
  const numbers = linuxNodeNumbers(input.nodes, input.smp, qemuSratEntries(input.nodes, belowFourGSize(input.machine, input.ramSize), profile));
  const nodeOf = (pxm: number) => numbers.get(pxm) ?? pxm;
  const offline = offlineReasons(out);
  const online = new Set(spec.nodes.filter((n) => !offline.has(n.id)).map((n) => nodeOf(n.id)));
  const nodeAccess = predictNodeAccess(hmat, online, nodeOf, (pxm) => offline.get(pxm) ?? 'offline');
  return { ...out, qemuTables: { ...tables, hmat }, nodeAccess };
}

/**
 * The nodes that are offline when the guest program reads access0 (after the use
 * steps), with why. A node is online with vCPUs or with RAM the kernel gets as
 * usable; a node of soft-reserved memory only once kmem onlines it: at boot on
 * a kernel that does so (traits), or by the case's kmem-online step.
 */
function offlineReasons(out: CaseExpectation): Map<number, string> {
  const spec = out.spec;
  const reasons = new Map<number, string>();
  for (const node of spec.nodes) {
    if (node.cpus !== undefined) continue;
    const size = parseSize(node.size);
    if (size === 0n || node.memdev === false) {
      reasons.set(node.id, `node ${node.id} has neither vCPUs nor memory`);
      continue;
    }
    const type = node.memmapType ?? 'normal';
    if (type === 'normal') continue;
    if (type === 'reserved') {
      reasons.set(node.id, `node ${node.id} has no vCPUs and only reserved memory, which no one onlines`);
      continue;
    }
    const reaches = out.firmwarePasses.spm;
    const bootOnline = reaches && out.kernelView.onlined;
    const kmemStep = (spec.use ?? []).includes('kmem-online') && (spec.expect.use ?? []).some((u) => u.node === node.id && u.kmemOnline === true);
    if (bootOnline || kmemStep) continue;
    reasons.set(node.id, reaches
      ? `node ${node.id} has no vCPUs and only soft-reserved memory, which ${spec.kernel} leaves to device-dax and the case does not online (kmem-online)`
      : `node ${node.id} has no vCPUs and only spm memory, which ${spec.firmware} drops from the E820: the node never comes online`);
  }
  return reasons;
}
