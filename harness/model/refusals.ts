/**
 * Which configurations QEMU refuses, and with what message, in the order QEMU
 * finds out: each -numa option as it is parsed (command-line order), then the
 * node set as a whole, then machine init.
 */
import { belowFourGSize, e820TypeOf, E820, MEMMAP_TYPES, nodeExtents } from './qemu.ts';
import type { LayoutInput, NodeLayout, RefusalPrediction, UnsupportedPrediction } from './types.ts';

/** QEMU's refusal (or the harness's "unsupported") for `input`, or undefined when QEMU starts. */
export function predictRefusal(input: LayoutInput): RefusalPrediction | UnsupportedPrediction | undefined {
  return unsupported(input) ?? optionRefusal(input) ?? nodeSetRefusal(input) ?? straddleRefusal(input);
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
    if (type !== undefined && !(MEMMAP_TYPES as readonly string[]).includes(type)) {
      return refusal(`Parameter 'memmap-type' does not accept value '${type}'`, `node ${node.id}: '${type}' is not a NumaMemmapType`);
    }
    const taken = node.cpus.find((cpu) => owner.has(cpu));
    if (taken !== undefined) {
      return refusal(`CPU is already assigned to node-id: ${owner.get(taken)}`, `node ${node.id} lists vCPU ${taken}, already in node ${owner.get(taken)}`);
    }
    node.cpus.forEach((cpu) => owner.set(cpu, node.id));
    if (type !== undefined && !node.memdev && input.profile.memmapNeedsMemdev) {
      return refusal('Parameter -numa node,memmap-type requires memdev', `${input.profile.label}: node ${node.id} has memmap-type but no memdev`);
    }
  }
  return undefined;
}

/** numa_complete_configuration(): node ids must be 0..n-1 (the largest missing one is named). */
function nodeSetRefusal(input: LayoutInput): RefusalPrediction | undefined {
  const ids = new Set(input.nodes.map((n) => n.id));
  for (let id = Math.max(-1, ...ids) - 1; id >= 0; id--) {
    if (!ids.has(id)) return refusal(`numa: Node ID missing: ${id}`, `node ids must be 0..${ids.size - 1}`);
  }
  return undefined;
}

/** pc_check_numa_memmap_types(): a non-normal node may not cross the end of low memory. */
function straddleRefusal(input: LayoutInput): RefusalPrediction | undefined {
  const below = belowFourGSize(input.machine, input.ramSize);
  const crossing = nodeExtents(input.nodes).find(({ node, offset, end }) => isTyped(node) && offset < below && end > below);
  if (!crossing) return undefined;
  const { node } = crossing;
  return refusal(
    `NUMA node ${node.id} with memmap-type=${node.memmapType ?? 'normal'} straddles the 4 GiB boundary`,
    `node ${node.id} (RAM offsets 0x${crossing.offset.toString(16)}-0x${(crossing.end - 1n).toString(16)}) crosses the end of low memory at 0x${below.toString(16)}`,
  );
}

function isTyped(node: NodeLayout): boolean {
  return e820TypeOf(node.memmapType) !== E820.RAM;
}

function refusal(message: string, reason: string): RefusalPrediction {
  return { kind: 'refusal', pattern: escapeRegExp(message), reason };
}

/** A literal string as a regular expression that matches exactly it. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
