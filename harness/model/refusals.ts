/**
 * Which configurations QEMU refuses, and with what message, in the order QEMU
 * finds out: each -numa option as it is parsed (command-line order), then the
 * node set as a whole, then machine init.
 */
import { e820TypeOf, isMemmapType } from '../core/memmap-types.ts';
import { rangeText } from '../core/range-text.ts';
import { deviceRegion, placeDevices } from './devices.ts';
import { E820_TYPE } from '../core/vocabulary.ts';
import { belowFourGSize, nodeExtents } from './qemu.ts';
import type { LayoutInput, NodeLayout, RefusalPrediction, UnsupportedPrediction } from './types.ts';

/** QEMU's refusal (or the harness's "unsupported") for `input`, or undefined when QEMU starts. */
export function predictRefusal(input: LayoutInput): RefusalPrediction | UnsupportedPrediction | undefined {
  return unsupported(input) ?? optionRefusal(input) ?? nodeSetRefusal(input) ?? straddleRefusal(input) ?? deviceRefusal(input);
}

/**
 * -device, in command-line order (after machine init): a node QEMU does not
 * have, no device-memory region without maxmem, an address outside the
 * region or on another device. Mentions are behaviour-level (any wording).
 */
function deviceRefusal(input: LayoutInput): RefusalPrediction | undefined {
  const memory = input.deviceMemory;
  if (!memory || memory.devices.length === 0) return undefined;
  const stray = memory.devices.find((d) => d.node >= input.nodes.length);
  if (stray) {
    return refusal(input, { rule: 'a memory device belongs to a NUMA node the machine has', mentions: ['\\bnode\\b', 'numa'], message: `'node' property value ${stray.node} exceeds the number of numa nodes ${input.nodes.length}` }, `${stray.id} names node ${stray.node}; the machine has ${input.nodes.length}`);
  }
  const region = deviceRegion(input.ramSize, belowFourGSize(input.machine, input.ramSize), memory.maxmem, memory.slots);
  if (!region) {
    return refusal(input, { rule: 'memory devices need a device-memory region (maxmem above the RAM)', mentions: ['maxmem', 'memory devices', 'hotplug'], message: 'the configuration is not prepared for memory devices (e.g., for memory hotplug), consider specifying the maxmem option' }, 'no maxmem: QEMU makes no device-memory region');
  }
  const placement = placeDevices(region, memory.devices);
  if ('placed' in placement) return undefined;
  return refusal(input, { rule: `a memory device's address must be free and inside the device-memory region`, mentions: ['conflict', 'overlap', 'address', 'addr'], message: `${placement.device.id}: ${placement.problem}` }, `${placement.device.id}: ${placement.problem}`);
}

function unsupported(input: LayoutInput): UnsupportedPrediction | undefined {
  if (input.profile.memmapTypeSupported || !input.nodes.some((n) => n.memmapType !== undefined)) return undefined;
  return { kind: 'unsupported', reason: `${input.profile.label} QEMU has no -numa node,memmap-type option ('Invalid parameter'); the harness reports unsupported without booting` };
}

/** parse_numa(): the QAPI enum first, then parse_numa_node()'s checks (cpus before memdev). */
function optionRefusal(input: LayoutInput): RefusalPrediction | undefined {
  const owner = new Map<number, number>();
  for (const node of input.nodes) {
    const type = node.memmapType;
    if (type !== undefined && !isMemmapType(type)) {
      return refusal(input, {
        rule: `memmap-type takes normal, spm or reserved, not '${type}'`,
        mentions: ['memmap-type'],
        message: `Parameter 'memmap-type' does not accept value '${type}'`,
      }, `node ${node.id}: '${type}' is not a NumaMemmapType`);
    }
    const taken = node.cpus.find((cpu) => owner.has(cpu));
    if (taken !== undefined) {
      return refusal(input, {
        rule: 'a vCPU belongs to one node only',
        mentions: ['\\bcpus?\\b'],
        message: `CPU is already assigned to node-id: ${owner.get(taken)}`,
      }, `node ${node.id} lists vCPU ${taken}, already in node ${owner.get(taken)}`);
    }
    node.cpus.forEach((cpu) => owner.set(cpu, node.id));
    if (type !== undefined && !node.memdev && input.profile.memmapNeedsMemdev) {
      return refusal(input, {
        rule: `${input.profile.label}: memmap-type needs the node's memory backend (memdev=)`,
        mentions: ['memdev', 'memory backend'],
        message: 'Parameter -numa node,memmap-type requires memdev',
      }, `${input.profile.label}: node ${node.id} has memmap-type but no memdev`);
    }
  }
  return undefined;
}

/** numa_complete_configuration(): node ids must be 0..n-1 (the largest missing one is named). */
function nodeSetRefusal(input: LayoutInput): RefusalPrediction | undefined {
  const ids = new Set(input.nodes.map((n) => n.id));
  for (let id = Math.max(-1, ...ids) - 1; id >= 0; id--) {
    if (!ids.has(id)) return refusal(input, { rule: 'node ids are 0..n-1 without gaps', mentions: ['node'], message: `numa: Node ID missing: ${id}` }, `node ids must be 0..${ids.size - 1}`);
  }
  return undefined;
}

/** pc_check_numa_memmap_types(): a non-normal node may not cross the end of low memory. */
function straddleRefusal(input: LayoutInput): RefusalPrediction | undefined {
  const below = belowFourGSize(input.machine, input.ramSize);
  const crossing = nodeExtents(input.nodes).find(({ node, offset, end }) => isTyped(node) && offset < below && end > below);
  if (!crossing) return undefined;
  const { node } = crossing;
  return refusal(input, {
    rule: `node ${node.id} (memmap-type=${node.memmapType ?? 'normal'}) may not straddle the 4 GiB boundary`,
    mentions: straddleMentions(node.id),
    message: `NUMA node ${node.id} with memmap-type=${node.memmapType ?? 'normal'} straddles the 4 GiB boundary`,
  }, `node ${node.id} (RAM offsets ${rangeText({ start: crossing.offset, end: crossing.end - 1n })}) crosses the end of low memory at 0x${below.toString(16)}`,
  );
}

function isTyped(node: NodeLayout): boolean {
  return e820TypeOf(node.memmapType) !== E820_TYPE.RAM;
}

/**
 * What an error about a straddling node says, in any implementation's words:
 * it names the node, the boundary, or low memory / the PCI hole.
 */
export function straddleMentions(nodeId: number): string[] {
  return [`node\\W{0,4}(?:id\\W{0,2})?${nodeId}\\b`, '\\b4 ?gi?b\\b|\\b4g\\b', 'low memory|below.?4|pci hole'];
}

/**
 * A predicted refusal. `message` is what QEMU 10.2.2 with this project's own
 * series of the profile's revision prints: optional detail, checked only on
 * such a build; `mentions` is what any implementation's error must touch.
 */
function refusal(input: LayoutInput, refused: { rule: string; mentions: string[]; message: string }, reason: string): RefusalPrediction {
  const expectation = { rule: refused.rule, mentions: refused.mentions, wording: { [input.profile.id]: refused.message } };
  return { kind: 'refusal', expectation, reason };
}

/** A literal string as a regular expression that matches exactly it. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
