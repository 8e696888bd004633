/**
 * The layers below the kernel's printout, as the guest read them: QEMU's own
 * E820 table (fw_cfg etc/e820) and the raw ACPI tables, decoded. Each is
 * either there (with its bytes, to be saved beside the serial log) or says
 * why not, so "not available on this kernel" never reads as a pass or a fail.
 */
import type { E820Row } from '../core/vocabulary.ts';
import type { GuestSections } from './guest-sections.ts';
import { decodeFwCfgE820 } from './tables/fw-cfg-e820.ts';
import { parseHmat, type HmatTable } from './tables/hmat.ts';
import { RAW_SECTIONS, type RawSectionName } from './tables/raw-section.ts';
import { parseSlit, type SlitTable } from './tables/slit.ts';
import { parseSrat, type SratTable } from './tables/srat.ts';

/** One layer's data: read and decoded, or why not. */
export type LayerRead<T> =
  | { state: 'read'; value: T; bytes: Buffer }
  /** The guest has no such file (e.g. no SLIT without -numa dist). */
  | { state: 'absent'; why: string }
  /** This kernel cannot show the layer (no CONFIG_FW_CFG_SYSFS, no ACPI). */
  | { state: 'unavailable'; why: string }
  /** The guest never printed it (stopped before, or an older guest). */
  | { state: 'not read'; why: string }
  /** Printed but damaged, or bytes that do not decode. */
  | { state: 'damaged'; why: string };

export interface Layers {
  fwCfgE820: LayerRead<E820Row[]>;
  srat: LayerRead<SratTable>;
  slit: LayerRead<SlitTable>;
  hmat: LayerRead<HmatTable>;
}

/** The layers a guest program printed. Never throws. */
export function readLayers(guest: GuestSections): Layers {
  return {
    fwCfgE820: decode(guest, 'fw-cfg-e820', decodeFwCfgE820),
    srat: decode(guest, 'acpi-SRAT', parseSrat),
    slit: decode(guest, 'acpi-SLIT', parseSlit),
    hmat: decode(guest, 'acpi-HMAT', parseHmat),
  };
}

/** File suffixes for the raw bytes kept beside the serial log (`<stem>.SRAT.dat`): `iasl -d` reads them as they are. */
export const RAW_FILE_SUFFIX: Record<keyof Layers, string> = { fwCfgE820: 'fw_cfg-e820.dat', srat: 'SRAT.dat', slit: 'SLIT.dat', hmat: 'HMAT.dat' };

function notPrinted(guest: GuestSections): string {
  if (guest.done) return 'a guest program from before the raw tables: the log is older';
  return guest.initStarted ? 'the guest program stopped before it' : 'the guest never reached init';
}

function decode<T>(guest: GuestSections, section: RawSectionName, decoder: (bytes: Buffer) => T): LayerRead<T> {
  const raw = guest.rawTables[section];
  const what = RAW_SECTIONS[section];
  if (raw === undefined) return { state: 'not read', why: `the guest did not print ${what} (${notPrinted(guest)})` };
  switch (raw.state) {
    case 'absent':
      return { state: 'absent', why: `${what}: the guest has no ${raw.path}` };
    case 'unavailable':
      return { state: 'unavailable', why: `${what}: not available on this kernel: ${raw.why}` };
    case 'damaged':
      return { state: 'damaged', why: `${what}: damaged on the console: ${raw.why}` };
    case 'present':
      try {
        return { state: 'read', value: decoder(raw.bytes), bytes: raw.bytes };
      } catch (error) {
        return { state: 'damaged', why: `${what}: ${(error as Error).message}` };
      }
  }
}
