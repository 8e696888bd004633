/**
 * What the accelerator changes in the memory map a guest sees. Under TCG the
 * model (traits.json, layout.ts) was measured; under KVM QEMU adds E820
 * entries of its own, read from QEMU's source but not yet seen on a KVM host,
 * so a KVM run's verdict must not be a pass until someone verifies them there.
 */
import type { Finding } from '../core/vocabulary.ts';
import type { Accelerator } from '../util/accel.ts';

/** An E820 entry QEMU itself adds under an accelerator (fw_cfg `etc/e820`, which the firmware passes on). */
export interface AcceleratorE820Entry {
  start: bigint;
  /** Last byte, inclusive (as the kernel prints it). */
  end: bigint;
  /** E820 type: 2 = reserved. */
  type: number;
  /** Where in QEMU the entry comes from, and why. */
  source: string;
}

/** What an accelerator adds to the map, and whether that was seen on a real run. */
export interface AcceleratorTraits {
  e820Added: readonly AcceleratorE820Entry[];
  /** False until a run on a host with this accelerator confirmed the model's rows. */
  verified: boolean;
  reason: string;
}

/** The traits per accelerator. */
export const ACCELERATOR_TRAITS: Readonly<Record<Accelerator, AcceleratorTraits>> = {
  tcg: { e820Added: [], verified: true, reason: 'every stated row and the layout model were measured under TCG' },
  kvm: {
    e820Added: [
      {
        start: 0xfeffc000n,
        end: 0xfeffffffn,
        type: 2,
        source:
          "target/i386/kvm/kvm.c kvm_arch_init(): KVM_SET_IDENTITY_MAP_ADDR at 0xfeffc000 (one page, 'allows up to 16M BIOSes'), KVM_SET_TSS_ADDR one page above (three pages), then e820_add_entry(identity_base, 0x4000, E820_RESERVED)",
      },
    ],
    verified: false,
    reason:
      'read from QEMU source, not yet verified on a KVM runner; hw/i386/pc.c adds the other reserved entry only for SGX EPC, which no case uses. The entry lies below 4 GiB, so above-4g rows should not change',
  },
};

/** The check name of the finding an unverified accelerator adds. */
export const UNVERIFIED_CHECK = 'accelerator expectations verified';

/**
 * Findings a run under `accel` adds to its own: none when the accelerator's
 * traits were verified; otherwise one failed finding, so the verdict says
 * "expectation unverified" instead of passing on a model nobody checked.
 */
export function acceleratorFindings(accel: Accelerator): Finding[] {
  const traits = ACCELERATOR_TRAITS[accel];
  if (traits.verified) return [];
  const added = traits.e820Added.map((e) => `QEMU adds [mem 0x${e.start.toString(16).padStart(16, '0')}-0x${e.end.toString(16).padStart(16, '0')}] type ${e.type}: ${e.source}`);
  return [{ aspect: 'e820', check: UNVERIFIED_CHECK, ok: false, detail: [`expectation unverified under ${accel.toUpperCase()}: ${traits.reason}`, ...added] }];
}
