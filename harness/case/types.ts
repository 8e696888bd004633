/**
 * What a case file (cases/*.json) says: a VM configuration and what the
 * firmware tables, QMP and the guest must show for it. Sizes are strings
 * ("8G"); addresses are `0x…` strings. In the file, BIOS-e820 and SRAT rows
 * are kernel lines written exactly as the guest prints them, without the
 * timestamp (copy-pasteable from dmesg); the loader turns them into typed rows
 * (CaseFile → CaseSpec), the only place a case's text becomes rows.
 */
import type { MemmapType } from '../core/memmap-types.ts';
import type { E820Row, SratRow } from '../core/vocabulary.ts';


/** QEMU memory backend object types a node can use. */
export type BackendKind = 'ram' | 'memfd' | 'file';

/** The x86 machine types the harness builds for. */
export type MachineType = 'q35' | 'pc';

/** One `-numa node` and its `-object memory-backend-*`. */
export interface CaseNode {
  id: number;
  /** vCPU range as QEMU takes it: "0-3"; absent: a node without vCPUs (memory only, as SPM or HBM is). */
  cpus?: string;
  backend: BackendKind;
  size: string;
  /** Absent: the option is not given at all (QEMU's default). */
  memmapType?: MemmapType;
  /** false: no `-object` and no `memdev=` for this node (a memory-less node; `size` must be "0"). Default true. */
  memdev?: false;
  /**
   * Negative cases only (`expect.refusal` set): `key=value` parts appended to
   * this node's `-numa` option as they are, e.g. `["memmap-type=bogus"]`.
   * Letters, digits and dashes only, so nothing else can be smuggled in.
   */
  rawNumaOptions?: string[];
  /** HMAT (`hmat` set): the node whose vCPUs are this memory's local initiator (`initiator=`); a node with vCPUs is its own. */
  initiator?: number;
}

/** What an `-numa hmat-lb` entry describes (its `data-type`). */
export type HmatDataType = 'access-latency' | 'read-latency' | 'write-latency' | 'access-bandwidth' | 'read-bandwidth' | 'write-bandwidth';

/**
 * One `-numa hmat-lb,initiator=I,target=T,hierarchy=memory,data-type=…`: the
 * latency (nanoseconds) or bandwidth (bytes per second, a size like "200G")
 * from the vCPUs of node `initiator` to the memory of node `target`.
 */
export interface HmatLbEntry {
  initiator: number;
  target: number;
  dataType: HmatDataType;
  /** Nanoseconds, for the latency data types. */
  latency?: number;
  /** Bytes per second as a size ("200G" = 200 GiB/s), a multiple of 1 MiB, for the bandwidth data types. */
  bandwidth?: string;
}

/** `-machine …,hmat=on` and its `-numa hmat-lb` entries (memory hierarchy only). */
export interface HmatSpec {
  lb: HmatLbEntry[];
}

/** Memory devices a case can plug at startup (QEMU >= 11.1 for sp-mem; pc-dimm on any). */
export type MemoryDeviceKind = 'sp-mem' | 'pc-dimm';

/**
 * One `-device sp-mem|pc-dimm` with its own `-object memory-backend-*`:
 * memory outside the nodes' boot RAM, placed by QEMU in the device-memory
 * region above the RAM (harness/model/devices.ts).
 */
export interface CaseMemoryDevice {
  kind: MemoryDeviceKind;
  /** The NUMA node the device's memory belongs to (`node=`). */
  node: number;
  backend: BackendKind;
  size: string;
  /** Guest-physical address (`0x…`, `addr=`); absent: QEMU puts it in the first free place. */
  addr?: string;
  /** Negative cases only: a backend id the case already declares (`m0`, `d1`) used instead of the device's own. */
  memdev?: string;
}

/** The guest's own view, read by the guest program in the initramfs. */
export interface GuestExpectation {
  /** Ranges (`0x…-0x…`) that /proc/iomem and /sys/firmware/memmap must show as Soft Reserved; [] = none at all. */
  softReserved?: string[];
  /** DAX devices the guest must have, by target node and size; [] = none at all. */
  dax?: { targetNode: number; size: string }[];
  /** Bounds on each node's MemTotal (usable RAM the kernel manages on that node). */
  nodeMemTotal?: { node: number; min?: string; max?: string }[];
}

/**
 * A guest step that puts a node's memory to use (images/guest/init,
 * `use_steps`): `dax-pattern` maps each /dev/daxX.Y and checks a pattern
 * written through it; `kmem-online` reconfigures each dax device to System RAM
 * as `daxctl reconfigure-device --mode=system-ram` does and onlines its blocks.
 */
export type UseStep = 'dax-pattern' | 'kmem-online';

/**
 * What the use steps must show for one node. true: the node's memory is
 * device memory a program can map (`daxPattern`) and that the page allocator
 * can be given (`kmemOnline`: the node's MemTotal grows by the dax device's
 * size within memory-block rounding). false: there is no dax device on the
 * node to map or to online, and its MemTotal is unchanged by the step.
 * Each field is required exactly when its step runs.
 */
export interface UseExpectation {
  node: number;
  daxPattern?: boolean;
  kmemOnline?: boolean;
}

/** QMP facts queried while the guest is paused. */
export interface QmpExpectation {
  /** `query-memdev`: every backend with its size, in any order. */
  memdevs?: { id: string; size: string }[];
  /** Per node: memory size and vCPU indexes (`query-cpus-fast`, `x-query-numa`). */
  nodes?: { node: number; size: string; cpus: number[] }[];
  /** `query-memory-devices`: every memory device with its kind, node, address and size, in any order; [] = none. */
  memoryDevices?: { type: string; node: number; addr: string; size: string }[];
  /** `query-memory-size-summary`'s plugged-memory (absent there = 0). */
  pluggedMemory?: string;
}

/**
 * A configuration QEMU must refuse. What matters is behaviour: QEMU exits at
 * startup, before the guest runs, with an error that concerns the rule (names
 * the option or the node). Exact wording is extra detail, checked only on a
 * QEMU built from this project's own series of that revision.
 */
export interface RefusalExpectation {
  /** The rule the configuration breaks, in words, for reports. */
  rule: string;
  /** Regular expressions (JavaScript, case-insensitive): QEMU's error must match at least one to count as this refusal. */
  mentions: string[];
  /** Per revision id (v5, v6): the message this project's own series of that revision prints, matched literally. */
  wording?: Record<string, string>;
}

/** Everything a case checks; each part is optional. */
export interface Expectations {
  /**
   * true: `e820`, `srat` and `refusal` come from the layout model
   * (harness/model/) for the run's firmware and revision profile; any of
   * them the case states explicitly wins.
   */
  model?: boolean;
  /** QEMU must refuse to start, for the reason stated (judged by behaviour: harness/check/refusal.ts). */
  refusal?: RefusalExpectation;
  /** BIOS-e820 rows; scope `above-4g` compares only the part at or above 4 GiB (core/e820-scope.ts). */
  e820?: E820Expectation;
  /** SRAT memory affinity rows, all of them, in order. */
  srat?: SratRow[];
  qmp?: QmpExpectation;
  guest?: GuestExpectation;
  /** Per node: what the case's `use` steps must show (findings of aspect `use`). */
  use?: UseExpectation[];
}

/** Expected BIOS-e820 rows and which part of the table they cover. */
export interface E820Expectation {
  /** `all`: the whole table; `above-4g`: only the part at or above 4 GiB (OVMF draws the low part its own way; core/e820-scope.ts). */
  scope: 'all' | 'above-4g';
  rows: E820Row[];
}

/** Expectations as a case file writes them: e820 and SRAT rows as the kernel prints them. */
export type ExpectationsFile = Omit<Expectations, 'e820' | 'srat'> & {
  /** `BIOS-e820: [mem 0x…-0x…] usable` lines. */
  e820?: { scope: 'all' | 'above-4g'; lines: string[] };
  /** `ACPI: SRAT: Node N PXM P [mem 0x…-0x…]` lines. */
  srat?: string[];
};

/** A firmware that shows the case differently: its own expectations and why. */
export interface FirmwareVariant {
  reason: string;
  expect: Expectations;
}

/** A case file. */
export interface CaseSpec {
  name: string;
  description: string;
  machine: MachineType;
  memory: string;
  smp: number;
  /** Firmware id the case runs on by default (see harness/image/firmware.ts). */
  firmware: string;
  /** Kernel id (see harness/image/kernel.ts). */
  kernel: string;
  nodes: CaseNode[];
  /** Memory devices after the nodes, in command-line order (QEMU places them in that order). */
  devices?: CaseMemoryDevice[];
  /**
   * `-m …,maxmem=`: absent = the harness adds one when there are devices
   * (harness/case/qemu-args.ts); false = none at all (negative cases only).
   */
  maxmem?: string | false;
  /** `-m …,slots=`; absent = the harness's default when it adds maxmem. */
  slots?: number;
  /** Use steps (run by the guest program) that put the memory to use, in the order they run; their results are checked against `expect.use`. */
  use?: UseStep[];
  /**
   * Words added to the guest kernel's command line, e.g. `efi=nosoftreserve`
   * (negative controls). `word` or `key=value` of letters, digits and `_.,-`;
   * never a parameter the harness sets itself (console, panic, init, rdinit,
   * memmap_harness.*).
   */
  kernelArgs?: string[];
  /** `-machine …,hmat=on` with these latency/bandwidth entries: QEMU builds an ACPI HMAT (checked raw, aspect `acpi`, and as the guest's node access0 attributes, aspect `guest`). */
  hmat?: HmatSpec;
  expect: Expectations;
  /**
   * Per firmware id: the expectations that apply on that firmware. In a case
   * file a variant states only the parts that differ; loading resolves it once
   * into `expect` with those parts replaced, so readers never merge.
   */
  onFirmware?: Record<string, FirmwareVariant>;
  /** Revision profiles (harness/traits/traits.json revision ids) the case is about; absent = every profile. */
  profiles?: string[];
  /**
   * The revision the case's stated rows were observed on (default v5): with
   * its machine and firmware (and onFirmware's firmwares), the case's own
   * configuration, where its rows win over the layout model.
   */
  revision?: string;
}

/** A case file as written: the same, with rows as kernel lines. */
export type CaseFile = Omit<CaseSpec, 'expect' | 'onFirmware'> & {
  expect: ExpectationsFile;
  onFirmware?: Record<string, { reason: string; expect: ExpectationsFile }>;
};
