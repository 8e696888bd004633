import { FIRMWARES, isFirmwareId, type FirmwareId } from '../image/firmware.ts';
import { HarnessError } from '../util/errors.ts';

/** What the layout model needs to know about a firmware. */
export interface FirmwareTraits {
  id: string;
  /** `seabios` passes QEMU's low entries through (the model predicts the full table); `ovmf` draws the low 4 GiB its own way. */
  kind: 'seabios' | 'ovmf';
  /** Whether an E820 entry of type 0xEFFFFFFF (spm) reaches the guest; when not, the range is simply absent. */
  passesSoftReserved: boolean;
}

// Measured (notes/host-facts.md): SeaBIOS copies only RAM and reserved entries
// from etc/e820; OVMF 2025.02 drops 0xEFFFFFFF too; OVMF 2026.08 passes it.
const PASSES_SOFT_RESERVED: Record<FirmwareId, boolean> = {
  'seabios-bookworm': false,
  'seabios-sid': false,
  'ovmf-trixie': false,
  'ovmf-sid': true,
};

/** Traits of a firmware id the harness knows. */
export function firmwareTraits(id: string): FirmwareTraits {
  if (!isFirmwareId(id)) throw new HarnessError(`the layout model does not know firmware '${id}'`, `use one of ${Object.keys(FIRMWARES).join(', ')}`);
  return { id, kind: FIRMWARES[id].kind, passesSoftReserved: PASSES_SOFT_RESERVED[id] };
}
