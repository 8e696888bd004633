import { join } from 'node:path';
import { accelOption, DEFAULT_ACCELERATOR, type Accelerator } from '../util/accel.ts';
import { HarnessError } from '../util/errors.ts';
import { parseSize, toQemuSize } from '../util/size.ts';
import type { BackendKind, CaseMemoryDevice, CaseNode, CaseSpec, HmatLbEntry } from './types.ts';

/**
 * The QEMU arguments that describe a case's machine: board, RAM, vCPUs,
 * memory backends and NUMA nodes. Firmware, kernel, serial and QMP are added
 * by the stages that own them. The accelerator is the run's (tcg unless asked). Every value here was validated by the case
 * loader, so none can smuggle an extra `,option=` into QEMU's option strings.
 */
export function machineArgs(spec: CaseSpec, runDir: string, accel: Accelerator = DEFAULT_ACCELERATOR): string[] {
  const args = ['-machine', spec.hmat ? `${spec.machine},hmat=on` : spec.machine, '-accel', accelOption(accel), '-m', memoryOption(spec).value, '-smp', String(spec.smp)];
  for (const node of spec.nodes) {
    if (node.memdev !== false) args.push('-object', backendOption(node.backend, backendId(node), node.size, runDir));
    args.push('-numa', numaOption(node));
  }
  (spec.devices ?? []).forEach((device, i) => {
    if (device.memdev === undefined) args.push('-object', backendOption(device.backend, deviceBackendId(i), device.size, runDir));
    args.push('-device', deviceOption(device, i));
  });
  for (const entry of spec.hmat?.lb ?? []) args.push('-numa', hmatLbOption(entry));
  return args;
}

/** `-m`'s value, and the parts the harness added that the case did not state (reports show them). */
export function memoryOption(spec: CaseSpec): { value: string; added: string[] } {
  const size = toQemuSize(parseSize(spec.memory));
  const limits = memoryLimits(spec);
  if (!limits) return { value: size, added: [] };
  const maxmem = toQemuSize(limits.maxmem);
  const added = [...(spec.maxmem === undefined ? [`maxmem=${maxmem}`] : []), ...(spec.slots === undefined ? [`slots=${limits.slots}`] : [])];
  return { value: `${size},maxmem=${maxmem},slots=${limits.slots}`, added };
}

/** maxmem and slots as QEMU gets them (the case's, or the harness's defaults); undefined: no maxmem at all. */
export function memoryLimits(spec: CaseSpec): { maxmem: bigint; slots: number } | undefined {
  const devices = spec.devices ?? [];
  if (spec.maxmem === false || (spec.maxmem === undefined && devices.length === 0)) return undefined;
  return { maxmem: spec.maxmem === undefined ? defaultMaxmem(spec) : parseSize(spec.maxmem), slots: spec.slots ?? devices.length + 1 };
}

/**
 * A memory device needs a device-memory region, which QEMU makes only for
 * maxmem > RAM. The default leaves room for the devices and as much again for
 * hot-plug: for the seed's layout (8G RAM, an 8G sp-mem) it is the command
 * line the sp-mem issue measured, `maxmem=24G,slots=2`.
 */
function defaultMaxmem(spec: CaseSpec): bigint {
  const devices = (spec.devices ?? []).reduce((sum, d) => sum + parseSize(d.size), 0n);
  return parseSize(spec.memory) + 2n * devices;
}

/** The memory backend id of a node: m0, m1, … */
export function backendId(node: CaseNode): string {
  return `m${node.id}`;
}

/** The memory backend id of the i-th memory device: d0, d1, … */
export function deviceBackendId(index: number): string {
  return `d${index}`;
}

/** The `id=` of the i-th memory device (what query-memory-devices reports): spm0, dimm1, … */
export function deviceId(device: CaseMemoryDevice, index: number): string {
  return `${device.kind === 'sp-mem' ? 'spm' : 'dimm'}${index}`;
}

function backendOption(backend: BackendKind, id: string, size: string, runDir: string): string {
  const common = `id=${id},size=${toQemuSize(parseSize(size))}`;
  switch (backend) {
    case 'ram':
      return `memory-backend-ram,${common}`;
    case 'memfd':
      return `memory-backend-memfd,${common}`;
    case 'file':
      return `memory-backend-file,${common},mem-path=${qemuOptionValue(join(runDir, `${id}.mem`))},share=on`;
  }
}

function deviceOption(device: CaseMemoryDevice, index: number): string {
  const parts = [device.kind, `id=${deviceId(device, index)}`, `memdev=${device.memdev ?? deviceBackendId(index)}`, `node=${device.node}`];
  if (device.addr !== undefined) parts.push(`addr=${device.addr}`);
  return parts.join(',');
}

function numaOption(node: CaseNode): string {
  const parts = [`node`, `nodeid=${node.id}`];
  if (node.cpus !== undefined) parts.push(`cpus=${node.cpus}`);
  if (node.memdev !== false) parts.push(`memdev=${backendId(node)}`);
  if (node.initiator !== undefined) parts.push(`initiator=${node.initiator}`);
  if (node.memmapType !== undefined) parts.push(`memmap-type=${node.memmapType}`);
  // Negative cases only (the loader allows them only with expect.refusal): options QEMU must refuse.
  parts.push(...(node.rawNumaOptions ?? []));
  return parts.join(',');
}

/** One `-numa hmat-lb` (hierarchy memory): latency in nanoseconds, bandwidth in bytes per second with QEMU's size suffixes. */
function hmatLbOption(entry: HmatLbEntry): string {
  const value = entry.latency !== undefined ? `latency=${entry.latency}` : `bandwidth=${toQemuSize(parseSize(entry.bandwidth ?? '0'))}`;
  return `hmat-lb,initiator=${entry.initiator},target=${entry.target},hierarchy=memory,data-type=${entry.dataType},${value}`;
}

/** A path as a QEMU option value: QEMU reads a doubled comma as a literal one. */
function qemuOptionValue(path: string): string {
  if (/[\n]/.test(path)) throw new HarnessError(`path ${JSON.stringify(path)} cannot be passed to QEMU`, 'use a run directory without newlines');
  return path.replaceAll(',', ',,');
}
