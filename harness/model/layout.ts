/**
 * The layout model: from a machine, its RAM, its NUMA nodes, the firmware and
 * the patch revision, the BIOS-e820 and SRAT rows the guest prints, or the
 * refusal QEMU answers with. Pure: no I/O.
 */
import { rangeText } from '../core/range-text.ts';
import { E820_TYPE, byStart } from '../core/vocabulary.ts';
import { deviceE820, deviceRegion, deviceSrat, placeDevices, type PlacedDevice } from './devices.ts';
import { FOUR_GIB } from '../util/constants.ts';
import { belowFourGSize, qemuE820 } from './qemu.ts';
import { mergeAdjacent, type Span } from './ranges.ts';
import { predictRefusal } from './refusals.ts';
import { seabiosE820, type FirmwareMap } from './seabios.ts';
import { sratRows } from './srat.ts';
import type { E820Row, LayoutInput, LayoutPrediction, Prediction } from './types.ts';

/** What QEMU and the guest will show for `input`. */
export function predictLayout(input: LayoutInput): Prediction {
  return predictRefusal(input) ?? predictTables(input);
}

function predictTables(input: LayoutInput): LayoutPrediction {
  const below = belowFourGSize(input.machine, input.ramSize);
  const devices = placedDevices(input, below);
  const qemu = [...qemuE820(input.nodes, input.ramSize, below), ...deviceE820(devices.placed)];
  const notes = [`${input.machine} with ${input.ramSize >> 20n} MiB RAM: 0x${below.toString(16)} bytes below 4 GiB, the rest from 4 GiB`];
  const firmwareMap: FirmwareMap = input.firmware.kind === 'seabios' ? seabiosE820(qemu, input.machine) : above4gOnly(qemu, input.firmware);
  if (!input.firmware.passesSoftReserved && qemu.some((e) => e.type === E820_TYPE.SOFT_RESERVED)) {
    notes.push(`${input.firmware.id} drops E820 type 0xEFFFFFFF: spm ranges are absent from the guest's table (SRAT still lists them)`);
  }
  const rows = mergeAdjacent(firmwareMap.spans).map(toRow);
  const printsE820 = firmwareMap.usableRam;
  if (!printsE820) notes.push('no usable RAM at all: the kernel cannot start and prints nothing');
  const printsSrat = printsE820 && firmwareMap.acpiTables;
  if (printsE820 && !printsSrat) notes.push('no RAM below 4 GiB for the firmware\'s ACPI tables: the guest sees no SRAT (and panics without RAM below 1 MiB)');
  if (input.profile.reservedLeavesSrat && input.nodes.some((n) => n.memmapType === 'reserved')) notes.push(`${input.profile.label}: reserved nodes have no SRAT rows`);
  return {
    kind: 'layout',
    e820: { scope: input.firmware.kind === 'seabios' ? 'all' : 'above-4g', rows: printsE820 ? rows : [] },
    srat: printsSrat ? sratRows(input.nodes, input.smp, below, input.profile, devices.srat) : [],
    printsE820,
    printsSrat,
    belowFourG: below,
    memoryDevices: devices.placed,
    notes: [...notes, ...devices.notes],
  };
}

/** The devices where QEMU puts them and their SRAT entries (predictRefusal has ruled out devices that do not fit). */
function placedDevices(input: LayoutInput, below: bigint): { placed: PlacedDevice[]; srat: ReturnType<typeof deviceSrat>; notes: string[] } {
  const memory = input.deviceMemory;
  const region = memory && deviceRegion(input.ramSize, below, memory.maxmem, memory.slots);
  if (!memory || !region) return { placed: [], srat: [], notes: [] };
  const placement = placeDevices(region, memory.devices);
  const placed = 'placed' in placement ? placement.placed : [];
  const lastNode = Math.max(0, ...input.nodes.map((n) => n.id));
  const where = placed.map((d) => `${d.id} (${d.kind}, node ${d.node}) at 0x${d.start.toString(16)}`).join(', ');
  const notes = [`device-memory region ${rangeText({ start: region.start, end: region.end - 1n })} (after the RAM above 4 GiB, 1 GiB aligned; maxmem - RAM + 1 GiB per slot)${where ? `: ${where}` : ''}`];
  return { placed, srat: deviceSrat(region, placed, lastNode), notes };
}

/**
 * OVMF and qboot: only the part at or above 4 GiB is modelled (the low 4 GiB
 * are the firmware's own, e.g. qboot's ACPI NVS at 0xd0000, see
 * test/fixtures/serial/). There they pass QEMU's RAM and reserved entries
 * through, and spm entries when they know the type. They always have room
 * for ACPI tables.
 */
function above4gOnly(qemu: readonly Span[], firmware: LayoutInput['firmware']): FirmwareMap {
  const passes = (type: number) => (type === E820_TYPE.SOFT_RESERVED ? firmware.passesSoftReserved : type === E820_TYPE.RESERVED ? firmware.passesReserved : true);
  const kept = qemu.filter((e) => e.start >= FOUR_GIB && passes(e.type));
  const sorted = [...kept].sort(byStart);
  return { spans: sorted, acpiTables: true, usableRam: usableRamFor(qemu, firmware) };
}

/**
 * OVMF sizes the RAM below 4 GiB itself and hands it to the guest as usable
 * whatever type QEMU gave it: a pc guest whose only node (256 MiB) was typed
 * reserved (model-property seed 1139275579), and one whose only node was typed
 * spm (seed 439134898), booted and printed usable low rows on OVMF sid, with
 * v5 and v6. Elsewhere the guest needs a RAM entry.
 */
function usableRamFor(qemu: readonly Span[], firmware: LayoutInput['firmware']): boolean {
  if (firmware.kind === 'ovmf' && qemu.some((e) => e.start < FOUR_GIB)) return true;
  return qemu.some((e) => e.type === E820_TYPE.RAM);
}

function toRow(span: Span): E820Row {
  return { start: span.start, end: span.end - 1n, type: span.type };
}
