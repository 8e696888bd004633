/**
 * The layout model's vocabulary: what goes in (a machine, its RAM, its NUMA
 * nodes, the firmware and the patch revision) and what comes out (the E820 and
 * SRAT rows the guest prints, or QEMU's refusal). Addresses and sizes are
 * bigint; ends are inclusive, as the kernel prints them.
 */
import type { MachineType, RefusalExpectation } from '../case/types.ts';
import type { E820Row, SratRow } from '../core/vocabulary.ts';
import type { DeviceMemoryInput, PlacedDevice } from './devices.ts';
import type { FirmwareTraits } from './firmware.ts';
import type { RevisionProfile } from '../traits/profiles.ts';

/** One `-numa node`, as the model needs it. */
export interface NodeLayout {
  id: number;
  /** Bytes of RAM the node owns (0 for a node without memdev). */
  size: bigint;
  /** `memdev=` given: false for a memory-less node. */
  memdev: boolean;
  /** As given on the command line (may be a value QEMU rejects); undefined = option absent. */
  memmapType?: string;
  /** vCPU indexes the node lists with `cpus=`. */
  cpus: number[];
}

/** Everything the layout depends on. */
export interface LayoutInput {
  machine: MachineType;
  ramSize: bigint;
  smp: number;
  /** In command-line order (QEMU reports option errors in that order). */
  nodes: NodeLayout[];
  /** Memory devices with maxmem and slots; absent: no `-device`, no maxmem. */
  deviceMemory?: DeviceMemoryInput;
  firmware: FirmwareTraits;
  profile: RevisionProfile;
}

export type { E820Row, SratRow } from '../core/vocabulary.ts';

/** What the guest prints, when QEMU starts. */
export interface LayoutPrediction {
  kind: 'layout';
  e820: {
    /** `all`: the whole table (SeaBIOS); `above-4g`: only rows at or above 4 GiB (OVMF draws the low part its own way). */
    scope: 'all' | 'above-4g';
    rows: E820Row[];
  };
  srat: SratRow[];
  /** Whether the kernel prints its BIOS-e820 table at all (it needs some usable RAM to start). */
  printsE820: boolean;
  /** Whether the kernel prints SRAT lines (the firmware must have found RAM below 4 GiB for the ACPI tables). */
  printsSrat: boolean;
  /** The RAM split: bytes of guest RAM below 4 GiB. */
  belowFourG: bigint;
  /** Memory devices where QEMU puts them (query-memory-devices), in command-line order. */
  memoryDevices: PlacedDevice[];
  /** Why the prediction looks as it does, for people reading a report. */
  notes: string[];
}

/** QEMU exits at startup, refusing for the rule `expectation` states. */
export interface RefusalPrediction {
  kind: 'refusal';
  expectation: RefusalExpectation;
  reason: string;
}

/** The QEMU under test does not know memmap-type: the harness reports "unsupported" without booting. */
export interface UnsupportedPrediction {
  kind: 'unsupported';
  reason: string;
}

export type Prediction = LayoutPrediction | RefusalPrediction | UnsupportedPrediction;
