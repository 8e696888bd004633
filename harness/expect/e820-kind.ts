import { E820_TYPE } from '../parse/e820.ts';

const NAMES: Record<number, string> = {
  [E820_TYPE.RAM]: 'usable',
  [E820_TYPE.RESERVED]: 'reserved',
  [E820_TYPE.ACPI]: 'ACPI data',
  [E820_TYPE.NVS]: 'ACPI NVS',
  [E820_TYPE.UNUSABLE]: 'unusable',
  [E820_TYPE.PMEM]: 'persistent',
  [E820_TYPE.SOFT_RESERVED]: 'soft reserved',
};

/**
 * A kernel-independent name for an E820 type: Linux 6.1 prints `usable`, 7.x
 * `System RAM` for the same type 1, so rows are compared by number and shown
 * with the 6.1 wording plus the number.
 */
export function e820Kind(type: number): string {
  const name = NAMES[type];
  return `${name ?? 'type'} (type ${type === E820_TYPE.SOFT_RESERVED ? '0xEFFFFFFF' : type})`;
}
