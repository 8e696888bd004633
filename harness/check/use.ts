/**
 * Checks of aspect `use`: does the node's memory work as Specific Purpose
 * Memory? A program maps its dax device and reads back what it wrote
 * (`dax-pattern`); the administrator hands it to the page allocator through
 * kmem and the node's MemTotal grows by the device's size (`kmem-online`).
 * A node whose range is not soft reserved (a reserved node, a firmware that
 * dropped the type, efi=nosoftreserve, hmem disabled) has no dax device:
 * nothing to map, nothing to online, MemTotal unchanged.
 */
import type { UseExpectation, UseStep } from '../case/types.ts';
import type { Finding } from '../core/vocabulary.ts';
import type { GuestSections } from '../parse/guest-sections.ts';
import type { KmemStep } from '../parse/use.ts';
import { humanSize } from '../util/size.ts';

/** One finding per node and step the case asks for. */
export function checkUse(steps: readonly UseStep[], expected: readonly UseExpectation[], guest: GuestSections): Finding[] {
  const findings: Finding[] = [];
  for (const want of expected) {
    if (steps.includes('dax-pattern') && want.daxPattern !== undefined) findings.push(want.daxPattern ? daxPatternWorks(want.node, guest) : nothingToMap(want.node, guest));
    if (steps.includes('kmem-online') && want.kmemOnline !== undefined) findings.push(want.kmemOnline ? kmemOnlines(want.node, guest) : notOnlinable(want.node, guest));
  }
  return findings;
}

function daxPatternWorks(node: number, guest: GuestSections): Finding {
  const check = `node ${node}: its dax device maps and holds a pattern`;
  if (guest.useDax === undefined) return fail(check, ['the dax-pattern step did not run (no use-dax section in the serial log)']);
  const onNode = guest.useDax.filter((r) => r.node === node);
  const devices = daxOn(node, guest);
  if (onNode.length === 0) {
    return fail(`${check}`, [`  no dax device on node ${node} to map (dax devices: ${describeDax(guest)})`, `  the range is not device memory: was the node typed spm, and did the firmware pass E820 type 0xEFFFFFFF?`]);
  }
  const bad = onNode.filter((r) => r.result !== 'ok' || r.checked === 0n);
  if (bad.length > 0) return fail(check, bad.map((r) => `  /dev/${r.device} (node ${node}): ${r.result}${r.reason ? ` (${r.reason})` : ''} after ${r.checked} bytes`));
  // Every dax device of the node must have been checked, not just one of them.
  const unchecked = devices.filter((d) => !onNode.some((r) => r.device === d));
  if (unchecked.length > 0) return fail(check, [`  not mapped: ${unchecked.join(', ')}`]);
  const named = onNode.map((r) => `/dev/${r.device} ${r.checked} bytes (size ${humanSize(r.size ?? 0n)}, align ${humanSize(r.align ?? 0n)})`).join('; ');
  return pass(`node ${node}: ${named} written through one MAP_SHARED mapping and read back through another`);
}

function nothingToMap(node: number, guest: GuestSections): Finding {
  const check = `node ${node}: no dax device to map (its range is not device memory)`;
  if (guest.useDax === undefined) return fail(check, ['the dax-pattern step did not run (no use-dax section in the serial log)']);
  const mapped = guest.useDax.filter((r) => r.node === node && r.result === 'ok');
  const devices = daxOn(node, guest);
  if (mapped.length === 0 && devices.length === 0) return pass(check);
  return fail(check, [`  node ${node} has dax device${devices.length === 1 ? '' : 's'} ${devices.join(', ') || mapped.map((r) => r.device).join(', ')}${mapped.length > 0 ? `, and ${mapped.map((r) => `/dev/${r.device}`).join(', ')} mapped a pattern` : ''}`]);
}

function kmemOnlines(node: number, guest: GuestSections): Finding {
  const check = `node ${node}: its dax device onlined as System RAM (kmem)`;
  const step = guest.useKmem;
  if (step === undefined) return fail(check, ['the kmem-online step did not run (no use-kmem section in the serial log)']);
  const devices = step.devices.filter((d) => d.node === node);
  if (devices.length === 0) return fail(check, [`  no dax device on node ${node} to reconfigure (dax devices: ${describeDax(guest)})`]);
  const problems = devices.flatMap((d) => {
    const out: string[] = [];
    if (d.driver !== 'kmem') out.push(`  ${d.device}: held by ${d.driver} after the step, not kmem (unbind ${d.unbind}, bind ${d.bind})`);
    if (d.failed > 0) out.push(`  ${d.device}: ${d.failed} of ${d.blocks} memory blocks refused to go online`);
    if (d.blocks === 0) out.push(`  ${d.device}: no memory blocks appeared for its range`);
    return out;
  });
  const grown = growth(step, node);
  const wanted = devices.reduce((sum, d) => sum + onlinableBytes(d.start, d.size, step.blockSize), 0n);
  const atMost = devices.reduce((sum, d) => sum + (d.size ?? 0n), 0n);
  // kmem adds only whole memory blocks inside the device's range (drivers/dax/kmem.c: dax_kmem_range()).
  if (grown === undefined) problems.push(`  node ${node}'s MemTotal was not read before and after the step`);
  else if (grown < wanted || grown > atMost) problems.push(`  node ${node} MemTotal grew by ${humanSize(grown)} (${grown} bytes); expected the device's ${humanSize(atMost)} less memory-block rounding: ${wanted} to ${atMost} bytes`);
  const names = devices.map((d) => d.device).join(', ');
  if (problems.length > 0) return fail(check, problems);
  const blocks = devices.reduce((sum, d) => sum + d.onlined, 0);
  return pass(`node ${node}: ${names} onlined as System RAM (kmem): MemTotal ${humanSize(step.before[node] ?? 0n)} -> ${humanSize(step.after[node] ?? 0n)}, ${blocks} blocks of ${humanSize(step.blockSize)}`);
}

function notOnlinable(node: number, guest: GuestSections): Finding {
  const check = `node ${node}: not onlinable (no dax device for kmem, MemTotal unchanged)`;
  const step = guest.useKmem;
  if (step === undefined) return fail(check, ['the kmem-online step did not run (no use-kmem section in the serial log)']);
  const problems: string[] = [];
  const onlined = step.devices.filter((d) => d.node === node);
  if (onlined.length > 0) problems.push(`  node ${node} had ${onlined.map((d) => `${d.device} (now ${d.driver}, ${d.onlined} blocks onlined)`).join(', ')}`);
  const grown = growth(step, node);
  if (grown === undefined) {
    if (step.before[node] !== undefined || step.after[node] !== undefined) problems.push(`  node ${node}'s MemTotal was read only once`);
  } else if (grown !== 0n) problems.push(`  node ${node} MemTotal changed by ${grown} bytes (${humanSize(step.before[node] ?? 0n)} -> ${humanSize(step.after[node] ?? 0n)})`);
  return problems.length > 0 ? fail(check, problems) : pass(check);
}

/** How many bytes of [start, start+size) kmem can add: the whole memory blocks inside it. */
export function onlinableBytes(start: bigint | undefined, size: bigint | undefined, blockSize: bigint): bigint {
  if (start === undefined || size === undefined || blockSize <= 0n) return size ?? 0n;
  const first = ((start + blockSize - 1n) / blockSize) * blockSize;
  const last = ((start + size) / blockSize) * blockSize;
  return last > first ? last - first : 0n;
}

function growth(step: KmemStep, node: number): bigint | undefined {
  const after = step.after[node];
  // A node without vCPUs whose memory is all soft reserved is offline until kmem
  // adds memory to it: it has no /sys/devices/system/node/nodeN before, so MemTotal 0.
  const before = step.before[node] ?? (after !== undefined && Object.keys(step.before).length > 0 ? 0n : undefined);
  return before === undefined || after === undefined ? undefined : after - before;
}

/** Names of the dax devices the guest program listed on `node`. */
function daxOn(node: number, guest: GuestSections): string[] {
  return (guest.dax ?? []).filter((d) => d.targetNode === node).map((d) => d.name);
}

function describeDax(guest: GuestSections): string {
  const all = guest.dax ?? [];
  return all.length === 0 ? 'none' : all.map((d) => `${d.name} on node ${d.targetNode ?? '-'}`).join(', ');
}

function pass(check: string): Finding {
  return { aspect: 'use', check, ok: true, detail: [] };
}

function fail(check: string, detail: string[]): Finding {
  return { aspect: 'use', check, ok: false, detail };
}
