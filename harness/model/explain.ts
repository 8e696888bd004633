/** What a report says about an expectation: summary phrases, grid tags and the traits' reasons for each axis of the configuration. */
import type { MachineType } from '../case/types.ts';
import { MEMMAP_E820_TYPE, TYPED_MEMMAPS } from '../core/memmap-types.ts';
import { e820Code } from '../core/vocabulary.ts';
import type { RevisionProfile } from '../traits/profiles.ts';
import { traitOf, type SpmView } from '../traits/traits.ts';
import type { CaseExpectation, Configuration } from './case-expectation.ts';

/** Summary, tags and reasons for a `run` expectation: what each axis does to this case here, from the traits. */
export function explain(out: CaseExpectation, caseMachine: MachineType, config: Configuration, profile: RevisionProfile | undefined): CaseExpectation {
  if (out.kind !== 'run' || out.spec.expect.refusal !== undefined) return out;
  const summary = [...out.summary];
  const tags = [...out.tags];
  const reasons: string[] = [];
  const expect = out.spec.expect;
  if (config.machine !== caseMachine) {
    summary.push(`${config.machine} layout`);
    tags.push(`${config.machine} layout`);
    reasons.push(`${config.machine}: ${traitOf('machines', config.machine).reason}`);
  }
  const reserved = out.typed.filter((t) => t.type === 'reserved').map((t) => t.id);
  if (profile?.reservedLeavesSrat && reserved.length > 0 && expect.srat) {
    summary.push(`reserved node ${reserved.join(', ')} left out of SRAT`);
    tags.push('reserved not in SRAT');
    reasons.push(`${profile.id}: ${profile.reason}`);
  }
  const firmware = traitOf('firmware', config.firmware);
  for (const type of TYPED_MEMMAPS) {
    if (!out.typed.some((t) => t.type === type)) continue;
    const code = e820Code(MEMMAP_E820_TYPE[type]);
    reasons.push(`${config.firmware} ${firmware.passes[type] ? 'passes' : 'drops'} ${type}: ${firmware.reason[type]}`);
    summary.push(firmware.passes[type] ? `${type} passed through as E820 type ${code}` : `firmware drops type ${code}: ${type} range absent from E820, SRAT unchanged`);
    tags.push(firmware.passes[type] ? `${type} in E820` : `${type} dropped by firmware`);
  }
  if (out.typed.some((t) => t.type === 'spm') && expect.guest && out.firmwarePasses.spm) {
    const kernel = traitOf('kernels', config.kernel);
    summary.push(`${config.kernel}: ${describeView(out.kernelView)}`);
    tags.push(out.kernelView.onlined ? 'spm onlined (kmem)' : 'spm offline (dax)', ...(out.kernelView.iomemSoftReserved ? [] : ['no Soft Reserved in iomem']));
    reasons.push(`${config.kernel}: ${kernel.reason}`, `${config.kernel} /proc/iomem: ${kernel.iomemSource}`);
  }
  if (out.variantReason !== undefined) reasons.push(`case file onFirmware.${config.firmware}: ${out.variantReason}`);
  if (out.typed.length === 0) summary.push('normal RAM only: the same map on every firmware and kernel');
  return { ...out, summary, tags, reasons: [...reasons, ...out.reasons] };
}

/** A kernel's spm view in a few words. */
export function describeView(view: SpmView): string {
  const where = view.iomemSoftReserved ? 'Soft Reserved in /proc/iomem' : 'no Soft Reserved in /proc/iomem (only in /sys/firmware/memmap)';
  return `${view.daxDevice ? 'dax device' : 'no dax device'}, ${view.onlined ? 'onlined by kmem' : 'left offline'}, ${where}`;
}
