import { join } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import { parseSize, toQemuSize } from '../util/size.ts';
import type { CaseNode, CaseSpec } from './types.ts';

/**
 * The QEMU arguments that describe a case's machine: board, RAM, vCPUs,
 * memory backends and NUMA nodes. Firmware, kernel, serial and QMP are added
 * by the stages that own them. Every value here was validated by the case
 * loader, so none can smuggle an extra `,option=` into QEMU's option strings.
 */
export function machineArgs(spec: CaseSpec, runDir: string): string[] {
  const args = ['-machine', spec.machine, '-accel', 'tcg', '-m', toQemuSize(parseSize(spec.memory)), '-smp', String(spec.smp)];
  for (const node of spec.nodes) {
    if (node.memdev !== false) args.push('-object', backendOption(node, runDir));
    args.push('-numa', numaOption(node));
  }
  return args;
}

/** The memory backend id of a node: m0, m1, … */
export function backendId(node: CaseNode): string {
  return `m${node.id}`;
}

function backendOption(node: CaseNode, runDir: string): string {
  const common = `id=${backendId(node)},size=${toQemuSize(parseSize(node.size))}`;
  switch (node.backend) {
    case 'ram':
      return `memory-backend-ram,${common}`;
    case 'memfd':
      return `memory-backend-memfd,${common}`;
    case 'file':
      return `memory-backend-file,${common},mem-path=${qemuOptionValue(join(runDir, `${backendId(node)}.mem`))},share=on`;
  }
}

function numaOption(node: CaseNode): string {
  const parts = [`node`, `nodeid=${node.id}`, `cpus=${node.cpus}`];
  if (node.memdev !== false) parts.push(`memdev=${backendId(node)}`);
  if (node.memmapType !== undefined) parts.push(`memmap-type=${node.memmapType}`);
  // Negative cases only (the loader allows them only with expect.refusal): options QEMU must refuse.
  parts.push(...(node.rawNumaOptions ?? []));
  return parts.join(',');
}

/** A path as a QEMU option value: QEMU reads a doubled comma as a literal one. */
function qemuOptionValue(path: string): string {
  if (/[\n]/.test(path)) throw new HarnessError(`path ${JSON.stringify(path)} cannot be passed to QEMU`, 'use a run directory without newlines');
  return path.replaceAll(',', ',,');
}
