/**
 * The memmap-type vocabulary, defined once: the values `-numa
 * node,memmap-type=` takes, the E820 type each gives its range, and the name
 * the guest gives a soft-reserved range. The case loader, the layout model,
 * the expectation engine, the checks and the matrix all read them from here.
 */
import { E820_TYPE } from './vocabulary.ts';

/** The values QEMU's NumaMemmapType enum accepts (and a case's `memmapType` may say). */
export const MEMMAP_TYPES = ['normal', 'spm', 'reserved'] as const;

/** One memmap-type value. */
export type MemmapType = (typeof MEMMAP_TYPES)[number];

/** The memmap types the patch gives a node besides normal RAM. */
export type TypedMemmap = Exclude<MemmapType, 'normal'>;

/** The typed memmap types, in the order reports list them. */
export const TYPED_MEMMAPS: readonly TypedMemmap[] = MEMMAP_TYPES.filter((t): t is TypedMemmap => t !== 'normal');

/** The E820 type each memmap type gives its node's RAM (pc_numa_memmap_e820_type). */
export const MEMMAP_E820_TYPE: Readonly<Record<MemmapType, number>> = {
  normal: E820_TYPE.RAM,
  spm: E820_TYPE.SOFT_RESERVED,
  reserved: E820_TYPE.RESERVED,
};

/** What /proc/iomem and /sys/firmware/memmap call a soft-reserved (spm) range. */
export const SOFT_RESERVED_NAME = 'Soft Reserved';

/** Whether `value` is a memmap-type QEMU accepts. */
export function isMemmapType(value: unknown): value is MemmapType {
  return (MEMMAP_TYPES as readonly unknown[]).includes(value);
}

/** The E820 type a node's memmap-type gives its RAM: normal RAM when it has none (or one QEMU would refuse). */
export function e820TypeOf(memmapType: string | undefined): number {
  return isMemmapType(memmapType) ? MEMMAP_E820_TYPE[memmapType] : E820_TYPE.RAM;
}
