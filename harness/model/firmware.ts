import { FIRMWARES, isFirmwareId, type FirmwareKind } from '../image/firmware.ts';
import { HarnessError } from '../util/errors.ts';
import { traitOf } from '../traits/traits.ts';

/** What the layout model needs to know about a firmware. */
export interface FirmwareTraits {
  id: string;
  /** `seabios` passes QEMU's low entries through (the model predicts the full table); `ovmf` and `qboot` draw the low 4 GiB their own way. */
  kind: FirmwareKind;
  /** Whether an E820 entry of type 0xEFFFFFFF (spm) reaches the guest; when not, the range is simply absent. */
  passesSoftReserved: boolean;
  /** Whether an E820 entry of type 2 (reserved) reaches the guest. */
  passesReserved: boolean;
}

/**
 * Traits of a firmware id the harness knows: its kind from the image
 * builder, what it passes from harness/traits/traits.json. Throws HarnessError
 * for an unknown id.
 */
export function firmwareTraits(id: string): FirmwareTraits {
  if (!isFirmwareId(id)) throw new HarnessError(`the layout model does not know firmware '${id}'`, `use one of ${Object.keys(FIRMWARES).join(', ')}`);
  const { passes } = traitOf('firmware', id);
  return { id, kind: FIRMWARES[id].kind, passesSoftReserved: passes.spm, passesReserved: passes.reserved };
}
