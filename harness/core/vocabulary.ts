/**
 * The harness's core vocabulary, which every stage may import (it imports
 * nothing): typed table rows as the parser reads them from a serial log, the
 * case loader reads them from a case file and the layout model predicts them;
 * findings; verdicts. Addresses are bigint, ends inclusive as the kernel
 * prints them.
 */

/** Numeric E820 types (arch/x86/include/asm/e820/types.h; 0xEFFFFFFF is soft reserved / spm). */
export const E820_TYPE = {
  RAM: 1,
  RESERVED: 2,
  ACPI: 3,
  NVS: 4,
  UNUSABLE: 5,
  PMEM: 7,
  PRAM: 12,
  SOFT_RESERVED: 0xefffffff,
} as const;

/** Linux 6.1's words for the E820 types (e820_print_type()); other types print as `type N`. */
const E820_NAMES: Readonly<Record<number, string>> = {
  [E820_TYPE.RAM]: 'usable',
  [E820_TYPE.RESERVED]: 'reserved',
  [E820_TYPE.ACPI]: 'ACPI data',
  [E820_TYPE.NVS]: 'ACPI NVS',
  [E820_TYPE.UNUSABLE]: 'unusable',
  [E820_TYPE.PMEM]: 'persistent',
  [E820_TYPE.SOFT_RESERVED]: 'soft reserved',
};

/** An inclusive address range. */
export interface AddressRange {
  start: bigint;
  end: bigint;
}

/** One BIOS-e820 row. */
export interface E820Row extends AddressRange {
  type: number;
}

/** A BIOS-e820 row as a guest printed it: with the type text exactly as printed (`usable`, `System RAM`, `type 20`…). */
export interface PrintedE820Row extends E820Row {
  label: string;
}

/** One `ACPI: SRAT: Node N PXM P [mem …]` row: Linux's node number and the table's proximity domain. */
export interface SratRow extends AddressRange {
  node: number;
  pxm: number;
  /** The entry is flagged hot-pluggable (` hotplug`: QEMU's device-memory region); absent = not. */
  hotplug?: boolean;
}

/** One SRAT memory affinity structure as read from the raw table: end inclusive, absent for a zero-length entry. */
export interface AcpiSratEntry {
  pxm: number;
  start: bigint;
  length: bigint;
  end?: bigint;
  flags: { enabled: boolean; hotpluggable: boolean; nonVolatile: boolean };
}

/** A row of either table. */
export type TableRow = E820Row | SratRow;

/** The short name of an E820 type as Linux 6.1 prints it (`usable`, `soft reserved`, `type 20`). */
export function e820Name(type: number): string {
  return E820_NAMES[type] ?? `type ${type}`;
}

/** An E820 type's number as the harness writes it: `2`, or `0xEFFFFFFF` for soft reserved. */
export function e820Code(type: number): string {
  return type === E820_TYPE.SOFT_RESERVED ? '0xEFFFFFFF' : String(type);
}

/** A kernel-independent label for a type (6.1 prints `usable`, 7.x `System RAM` for type 1): the 6.1 name plus the number. */
export function e820Kind(type: number): string {
  const name = E820_NAMES[type];
  return `${name ?? 'type'} (type ${e820Code(type)})`;
}

/** What a row is, in words: its E820 kind, or its node and PXM. */
export function rowKind(row: TableRow): string {
  return 'type' in row ? e820Kind(row.type) : `node ${row.node} PXM ${row.pxm}${row.hotplug ? ' hotplug' : ''}`;
}

/** Same bounds and same kind. */
export function sameRow(a: TableRow, b: TableRow): boolean {
  return a.start === b.start && a.end === b.end && rowKind(a) === rowKind(b);
}

/** Orders bigints for Array.prototype.sort. */
export function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders anything with a start address. */
export function byStart(a: { start: bigint }, b: { start: bigint }): number {
  return compareBigint(a.start, b.start);
}

/** One difference between expected and actual rows. */
export type RowChange<T extends TableRow = TableRow> =
  | { change: 'missing'; expected: T }
  | { change: 'extra'; actual: T }
  | { change: 'changed type'; expected: T; actual: T }
  | { change: 'changed bounds'; expected: T; actual: T };

/**
 * The layers between QEMU and the guest, in the order memory facts pass them:
 * QEMU's answers over QMP; QEMU's E820 table as QEMU made it (fw_cfg
 * `etc/e820`); QEMU's ACPI tables as bytes (SRAT); what the firmware passed to
 * the kernel, as the kernel printed it (BIOS-e820, `ACPI: SRAT` lines); the
 * guest's own view (/proc/iomem, sysfs, dax). A failing case is attributed to
 * the first layer where reality left the model.
 */
export const LAYERS = ['qmp', 'fw_cfg', 'acpi', 'firmware', 'guest'] as const;
export type Layer = (typeof LAYERS)[number];

/** Each layer in a few words, for verdicts and reports. */
export const LAYER_WORDS: Record<Layer, string> = {
  qmp: "QEMU's answers over QMP",
  fw_cfg: "QEMU's E820 table (fw_cfg etc/e820)",
  acpi: "QEMU's ACPI tables (raw SRAT, HMAT)",
  firmware: 'what the firmware passed to the kernel (BIOS-e820 and SRAT lines)',
  guest: "the guest's own view (/proc/iomem, /sys, dax)",
};

export type FindingAspect = 'e820' | 'srat' | 'qmp' | 'guest' | 'use' | 'refusal' | 'fw_cfg' | 'acpi';

/** The layer a finding of `aspect` is about (a refusal is QEMU's own answer, the first layer). */
export function layerOf(aspect: FindingAspect): Layer {
  switch (aspect) {
    case 'e820':
    case 'srat':
      return 'firmware';
    case 'refusal':
      return 'qmp';
    case 'use':
      return 'guest';
    default:
      return aspect;
  }
}

/** The outcome of one expectation: which part of the case, whether it held, and the evidence when not. */
export interface Finding {
  aspect: FindingAspect;
  /** Which layer it is about; runCase sets it on every finding of a verdict (layerOf(aspect) unless the check said). */
  layer?: Layer;
  check: string;
  ok: boolean;
  /** Human-readable lines: a row diff, or expected vs actual. Empty when ok. */
  detail: string[];
  /** The same row diff as data, for e820/srat row checks that failed: reports draw expected-vs-actual tables and maps from it. */
  rows?: RowChange[];
}

/**
 * A case's verdict on one configuration:
 * - pass: every expectation held;
 * - fail: the run completed and some expectation did not hold (see findings);
 * - error: the run itself broke (QEMU refused to start, the guest hung, …);
 * - unsupported: the QEMU under test lacks `memmap-type` (patch not applied).
 */
export type Status = 'pass' | 'fail' | 'error' | 'unsupported';

/** A package at an exact version, as a report records it to make a run reproducible. */
export interface PinnedPackage {
  name: string;
  version: string;
  sha256?: string;
}

/** The QEMU a run used, as a report records it to find the same binary again. */
export interface QemuIdentity {
  binary: string;
  /** How reports name it (v5, baseline, bin-…). */
  label: string;
  /** From `qemu-system-x86_64 --version`, when known. */
  version?: string;
  /** The build cache key (~/.cache/memmap-harness/qemu/<key> or qemu-bin/<key>) when the harness built or fetched it. */
  buildKey?: string;
  firmwareDirs: string[];
  /** The project's own series the build carries (v5, v6), if any. */
  ownSeries?: string;
}

/** How a case run was made: enough, with `inputs`, to make it again elsewhere (report.json, `memmap-harness reproduce`). */
export interface RunProvenance {
  qemu: QemuIdentity;
  /** The full QEMU command line, binary first, as launched (absent when QEMU was never started). */
  qemuArgv?: string[];
  /** `tcg`, `kvm`…: from the command line's -accel. */
  accelerator?: string;
  transport: string;
  /** The backend given to every node after node 0 (a matrix cell's axis), if any. */
  backend?: string;
  /** The revision profile the expectations were derived for. */
  profile?: string;
  /** The case as it ran (a CaseSpec; the core imports nothing, so it is opaque here). */
  caseData: unknown;
}

/** Everything a report needs about one case run. */
export interface Verdict {
  name: string;
  status: Status;
  /** Why, for error and unsupported. */
  reason?: string;
  firmware: string;
  kernel: string;
  machine: string;
  qemu: string;
  /** Set when the firmware has its own expectations, with the reason the case file gives. */
  firmwareVariant?: string;
  /** The Debian packages the guest image came from, pinned by version and sha256 (absent when no guest was set up). */
  inputs?: { kernel: PinnedPackage[]; firmware: PinnedPackage };
  findings: Finding[];
  /** The guest's BIOS-e820 rows. */
  e820: PrintedE820Row[];
  srat: SratRow[];
  /** QEMU's E820 table as the guest read it from fw_cfg `etc/e820` (absent when it could not be read: see `layerNotes`). */
  fwCfgE820?: E820Row[];
  /** The raw SRAT's memory affinity structures as the guest read them (absent when it could not be read). */
  acpiSrat?: AcpiSratEntry[];
  /** Per layer that could not be read or checked, why (`not available on this kernel: …`): neither a pass nor a fail. */
  layerNotes?: string[];
  /** What changed between QEMU's tables and what the kernel got (`firmware: QEMU's etc/e820 has … at …; not in the kernel's BIOS-e820`). */
  layerPassage?: string[];
  /** For a failing case: the first layer where reality left the model, and what it says. */
  divergence?: { layer: Layer; says: string };
  /** Path of the full raw serial log kept on disk. */
  serialLog?: string;
  /** Where the run's scratch directory was kept (MEMMAP_HARNESS_KEEP_SCRATCH=1 on a run that did not pass). */
  scratchDir?: string;
  /** How the run was made (absent in verdicts made outside runCase). */
  provenance?: RunProvenance;
  /** The QEMU arguments of the run (without the binary, serial and QMP endpoints the VM runner adds). */
  qemuArgs?: string[];
  /** Options the harness added that the case does not state (`maxmem=24G`, `slots=2`). */
  addedByHarness?: string[];
  durationMs: number;
  /** Where durationMs went, for a case whose guest ran (absent otherwise). */
  phases?: CasePhases;
  /** What the run saw of QEMU's refusal, QMP and the guest (absent when nothing ran). */
  observed?: ObservedFacts;
}

/**
 * What a run saw, beside the rows: QEMU's startup verdict, QMP's answers and the
 * guest's own view. Recorded so that two runs can be compared aspect by aspect
 * (`memmap-harness compare`) from their reports alone, without booting again.
 */
export interface ObservedFacts {
  /** For a case QEMU is expected to refuse: whether it did, and its first line of error. */
  refusal?: { refused: boolean; message?: string };
  /** QMP, asked while the guest was paused (structurally check/observations.ts's QmpFacts). */
  qmp?: {
    memdevs: { id: string; size: bigint }[];
    nodes: { node: number; size: bigint; cpus: number[] }[];
    memoryDevices: { type: string; id?: string; node?: number; addr?: bigint; size?: bigint }[];
    pluggedMemory: bigint;
  };
  /** The guest's view from the guest program's sections; absent when the guest program did not run to its end (early verdicts). */
  guest?: {
    /** `Soft Reserved` ranges in /proc/iomem and in /sys/firmware/memmap. */
    iomemSoftReserved: AddressRange[];
    firmwareMemmapSoftReserved: AddressRange[];
    /** DAX devices by target node and size. */
    dax: { targetNode?: number; size?: bigint }[];
    /** MemTotal per node, bytes. */
    nodeMemTotal: { node: number; bytes: bigint }[];
  };
}

/** A booted case's time, in ms, step by step: QEMU started with QMP ready, the QMP questions (and `cont`), the guest until the evidence was in, QEMU stopped. */
export interface CasePhases {
  startMs: number;
  qmpMs: number;
  guestMs: number;
  stopMs: number;
  /** Part of guestMs: the guest program reading and printing QEMU's raw tables (etc/e820, ACPI), by the guest's clock. */
  tablesMs?: number;
}

/** The accelerator a QEMU command line asks for (`-accel NAME[,…]` or `-machine …,accel=NAME`), if it names one. */
export function acceleratorOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length - 1; i++) {
    const value = argv[i + 1] as string;
    if (argv[i] === '-accel') return value.split(',')[0];
    const inMachine = /(?:^|,)accel=([^,:]+)/.exec(value);
    if ((argv[i] === '-machine' || argv[i] === '-M') && inMachine) return inMachine[1];
  }
  return undefined;
}

/** The status that follows from findings. */
export function statusOf(findings: readonly Finding[]): Status {
  return findings.every((f) => f.ok) ? 'pass' : 'fail';
}
