/** The type texts the kernel prints in e820 rows (6.1 and 7.x), read back as numbers; used while normalising lines and while parsing rows. */
import { E820_TYPE } from '../core/vocabulary.ts';

// Fixed labels of 6.1 (usable, reserved) and 7.x (System RAM, device reserved) e820_print_type().
const LABELS: Readonly<Record<string, number>> = {
  usable: E820_TYPE.RAM,
  'System RAM': E820_TYPE.RAM,
  reserved: E820_TYPE.RESERVED,
  'device reserved': E820_TYPE.RESERVED,
  'soft reserved': E820_TYPE.SOFT_RESERVED,
  'ACPI data': E820_TYPE.ACPI,
  'ACPI NVS': E820_TYPE.NVS,
  unusable: E820_TYPE.UNUSABLE,
};

// `persistent (type %u)` (6.1), `persistent RAM (type %u)` (7.x), `type %u` (both).
const NUMBERED = /^(?:persistent (?:RAM )?\(type (\d+)\)|type (\d+))$/;

/** The numeric E820 type of a printed label, or undefined for text no kernel version prints. */
export function e820TypeOfLabel(label: string): number | undefined {
  const fixed = LABELS[label];
  if (fixed !== undefined) return fixed;
  const match = NUMBERED.exec(label);
  const digits = match?.[1] ?? match?.[2];
  return digits === undefined ? undefined : Number(digits);
}
