import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import { parseSize } from '../util/size.ts';
import { loadProfiles } from '../traits/profiles.ts';
import { parseSerialLog } from '../parse/log.ts';
import { isMemmapType, MEMMAP_TYPES } from '../core/memmap-types.ts';
import type { E820Row, SratRow } from '../core/vocabulary.ts';
import type { CaseFile, CaseMemoryDevice, CaseNode, CaseSpec, Expectations, ExpectationsFile, HmatDataType, HmatLbEntry, UseStep } from './types.ts';

/** A case file that is not valid JSON or not a valid case: names the file and the field. */
export class CaseFileError extends HarnessError {}

const BACKENDS = ['ram', 'memfd', 'file'];
const MACHINES = ['q35', 'pc'];
const DEVICE_KINDS = ['sp-mem', 'pc-dimm'];
const DEVICE_KEYS = ['kind', 'node', 'backend', 'size', 'addr', 'memdev'];
const PAGE = 4096n;
const USE_STEPS: readonly UseStep[] = ['dax-pattern', 'kmem-online'];
const USE_FIELDS: Record<UseStep, 'daxPattern' | 'kmemOnline'> = { 'dax-pattern': 'daxPattern', 'kmem-online': 'kmemOnline' };
// One kernel parameter each: a word or key=value, nothing a shell or the command line could split.
const KERNEL_ARG = /^([a-z][a-z0-9_.-]*)(=[a-z0-9_.,-]+)?$/i;
// Parameters the harness sets itself (guest-args.ts, the use steps): a case may not override them.
const HARNESS_KERNEL_ARGS = /^(console|panic|init|rdinit|memmap_harness\..*)$/;

/** Reads and validates one case file; throws CaseFileError naming the file and field. */
export async function loadCase(path: string): Promise<CaseSpec> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CaseFileError(`${path}: ${(error as Error).message}`, 'fix the file or pass another --case');
  }
  return validateCase(data, path);
}

/** Reads every `*.json` case in `dir`, or only the named ones (by `name`), in file-name order. */
export async function loadCases(dir: string, names?: string[]): Promise<CaseSpec[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const cases = await Promise.all(files.map((f) => loadCase(join(dir, f))));
  if (!names || names.length === 0) return cases;
  return names.map((name) => {
    const found = cases.find((c) => c.name === name);
    if (!found) {
      const known = cases.map((c) => c.name).join(', ');
      throw new CaseFileError(`no case named '${name}' in ${dir}`, `known cases: ${known}`);
    }
    return found;
  });
}

/** Checks a parsed case file's shape and turns its kernel lines into rows; throws one CaseFileError naming the first bad field. */
export function validateCase(data: unknown, where: string): CaseSpec {
  const fail = (field: string, what: string): never => {
    throw new CaseFileError(`${where}: ${field} ${what}`, 'see cases/README.md for the case format');
  };
  const c = data as Partial<CaseFile>;
  if (typeof c !== 'object' || c === null) fail('the file', 'is not a JSON object');
  if (typeof c.name !== 'string' || !/^[a-z0-9][a-z0-9.-]*$/.test(c.name)) fail('name', 'must be lower-case letters, digits, dots and dashes');
  if (typeof c.description !== 'string') fail('description', 'must be a string');
  if (!MACHINES.includes(c.machine as string)) fail('machine', `must be one of ${MACHINES.join(', ')}`);
  checkSize(c.memory, 'memory', fail);
  if (!Number.isInteger(c.smp) || (c.smp as number) < 1) fail('smp', 'must be a positive integer');
  if (typeof c.firmware !== 'string') fail('firmware', 'must be a firmware id');
  if (typeof c.kernel !== 'string') fail('kernel', 'must be a kernel id');
  if (!Array.isArray(c.nodes)) fail('nodes', 'must be a list');
  let total = 0n;
  (c.nodes ?? []).forEach((node, i) => {
    const at = `nodes[${i}]`;
    if (!Number.isInteger(node.id)) fail(`${at}.id`, 'must be an integer');
    if (node.cpus !== undefined && (typeof node.cpus !== 'string' || !cpuRangeFits(node.cpus, c.smp as number))) fail(`${at}.cpus`, `must be a vCPU range like 0-3 within smp ${c.smp} (or absent: a node without vCPUs)`);
    if (!BACKENDS.includes(node.backend)) fail(`${at}.backend`, `must be one of ${BACKENDS.join(', ')}`);
    total += checkSize(node.size, `${at}.size`, fail);
    if (node.memmapType !== undefined && !isMemmapType(node.memmapType)) fail(`${at}.memmapType`, `must be one of ${MEMMAP_TYPES.join(', ')}`);
    checkNodeExtras(node, at, c.expect?.refusal !== undefined, fail);
  });
  if ((c.nodes ?? []).length > 0 && total !== parseSize(c.memory as string)) fail('nodes', `sizes add up to ${total} bytes, not memory ${c.memory}`);
  if (typeof c.expect !== 'object' || c.expect === null) fail('expect', 'must be an object');
  checkDevices(c, c.expect?.refusal !== undefined, fail);
  checkModelAndRefusal(c.expect as Expectations, fail);
  checkUse(c, fail);
  checkHmat(c, fail);
  checkKernelArgs(c.kernelArgs, fail);
  // A case that states nothing to check would pass whatever QEMU does.
  if (Object.keys(c.expect as object).length === 0) fail('expect', 'states nothing to check: give rows, qmp, guest, refusal, or model: true');
  if (c.profiles !== undefined) checkProfiles(c.profiles, fail);
  if (c.revision !== undefined && !loadProfiles().some((p) => p.id === c.revision)) fail('revision', `'${String(c.revision)}' is not one of ${loadProfiles().map((p) => p.id).join(', ')}`);
  const { onFirmware: _text, ...file } = c as CaseFile;
  const expect = typedExpectations(file.expect, 'expect', fail);
  // Each variant resolved here, once: the case's own expectations with the variant's parts in place.
  const onFirmware: CaseSpec['onFirmware'] = {};
  for (const [id, variant] of Object.entries(c.onFirmware ?? {})) {
    if (typeof variant.reason !== 'string' || variant.reason.length === 0) fail(`onFirmware.${id}.reason`, 'must say why this firmware differs');
    if (variant.expect?.use !== undefined) checkUseExpectations(variant.expect.use, c, `onFirmware.${id}.expect.use`, fail);
    onFirmware[id] = { reason: variant.reason, expect: { ...expect, ...typedExpectations(variant.expect, `onFirmware.${id}.expect`, fail) } };
  }
  return { ...file, expect, ...(c.onFirmware ? { onFirmware } : {}) };
}

/** A case file's expectations with its BIOS-e820 and SRAT lines read as rows (the same parser reads the guest's log). */
function typedExpectations(expect: ExpectationsFile, at: string, fail: (f: string, w: string) => never): Expectations {
  const { e820, srat, ...rest } = expect;
  const out: Expectations = { ...rest };
  if (e820 !== undefined) {
    if (e820.scope !== 'all' && e820.scope !== 'above-4g') fail(`${at}.e820.scope`, "must be 'all' or 'above-4g'");
    out.e820 = { scope: e820.scope, rows: e820Rows(e820.lines, `${at}.e820.lines`, fail) };
  }
  if (srat !== undefined) out.srat = sratRows(srat, `${at}.srat`, fail);
  return out;
}

function e820Rows(lines: unknown, at: string, fail: (f: string, w: string) => never): E820Row[] {
  return linesAs(lines, at, fail, (log) => log.e820.map(({ start, end, type }) => ({ start, end, type })), 'BIOS-e820: [mem 0x%016x-0x%016x] <type>');
}

function sratRows(lines: unknown, at: string, fail: (f: string, w: string) => never): SratRow[] {
  return linesAs(lines, at, fail, (log) => log.srat.map(({ node, pxm, start, end, hotplug }): SratRow => ({ node, pxm, start, end, ...(hotplug ? { hotplug: true } : {}) })), 'ACPI: SRAT: Node N PXM P [mem 0x…-0x…]');
}

/** Each line must be one row of the kind `pick` reads, exactly as the kernel prints it. */
function linesAs<T>(lines: unknown, at: string, fail: (f: string, w: string) => never, pick: (log: ReturnType<typeof parseSerialLog>) => T[], shape: string): T[] {
  if (!Array.isArray(lines) || lines.some((l) => typeof l !== 'string')) return fail(at, 'must be a list of kernel lines');
  return (lines as string[]).flatMap((line, i) => {
    const rows = pick(parseSerialLog(line));
    if (rows.length !== 1) fail(`${at}[${i}]`, `'${line}' is not a line the kernel prints (${shape})`);
    return rows;
  });
}

// Raw -numa parts for negative cases: one key=value token each, never a key the harness writes itself.
const RAW_NUMA_OPTION = /^([a-z][a-z0-9-]*)=[a-z0-9-]+$/;
const HARNESS_NUMA_KEYS = ['nodeid', 'cpus', 'memdev'];

/** `memdev: false` (a memory-less node) and `rawNumaOptions` (negative cases only). */
function checkNodeExtras(node: CaseNode, at: string, refusalCase: boolean, fail: (f: string, w: string) => never): void {
  if (node.memdev !== undefined && node.memdev !== false) fail(`${at}.memdev`, 'can only be false (a node without memdev)');
  // The size was checked before this runs.
  if (node.memdev === false && parseSize(node.size) !== 0n) fail(`${at}.size`, 'must be "0" for a node without memdev');
  if (node.rawNumaOptions === undefined) return;
  if (!refusalCase) fail(`${at}.rawNumaOptions`, 'is only for negative cases (expect.refusal)');
  if (!Array.isArray(node.rawNumaOptions)) fail(`${at}.rawNumaOptions`, 'must be a list of key=value strings');
  for (const option of node.rawNumaOptions ?? []) {
    const key = typeof option === 'string' ? RAW_NUMA_OPTION.exec(option)?.[1] : undefined;
    if (key === undefined) fail(`${at}.rawNumaOptions`, `'${String(option)}' must be key=value of letters, digits and dashes`);
    if (HARNESS_NUMA_KEYS.includes(key as string) || (key === 'memmap-type' && node.memmapType !== undefined)) fail(`${at}.rawNumaOptions`, `must not repeat ${key}, which the case states already`);
  }
}

/**
 * `devices`, `maxmem` and `slots`. Outside negative cases a device's node is
 * one of the case's nodes, explicit addresses do not overlap and maxmem leaves
 * room for the devices; `memdev` (reusing a backend) and `maxmem: false` are
 * for negative cases only.
 */
function checkDevices(c: Partial<CaseFile>, refusalCase: boolean, fail: (f: string, w: string) => never): void {
  if (c.devices !== undefined && !Array.isArray(c.devices)) fail('devices', 'must be a list of memory devices');
  const devices = c.devices ?? [];
  const nodeIds = (c.nodes ?? []).map((n) => n.id);
  const backends = [...(c.nodes ?? []).filter((n) => n.memdev !== false).map((n) => `m${n.id}`), ...devices.map((_, i) => `d${i}`)];
  let total = 0n;
  const placed: { at: string; start: bigint; end: bigint }[] = [];
  devices.forEach((device, i) => {
    const at = `devices[${i}]`;
    if (typeof device !== 'object' || device === null) fail(at, 'must be an object');
    const unknownKey = Object.keys(device).find((k) => !DEVICE_KEYS.includes(k));
    if (unknownKey !== undefined) fail(`${at}.${unknownKey}`, `is not a field (${DEVICE_KEYS.join(', ')})`);
    if (!DEVICE_KINDS.includes(device.kind)) fail(`${at}.kind`, `must be one of ${DEVICE_KINDS.join(', ')}`);
    if (!Number.isInteger(device.node) || device.node < 0) fail(`${at}.node`, 'must be a node id');
    if (!refusalCase && !nodeIds.includes(device.node)) fail(`${at}.node`, `must be one of the case's nodes (${nodeIds.join(', ')})`);
    if (!BACKENDS.includes(device.backend)) fail(`${at}.backend`, `must be one of ${BACKENDS.join(', ')}`);
    const size = checkSize(device.size, `${at}.size`, fail);
    if (size === 0n || size % PAGE !== 0n) fail(`${at}.size`, 'must be a non-zero multiple of 4 KiB');
    total += size;
    if (device.addr !== undefined) placed.push({ at, ...checkDeviceAddr(device, size, at, refusalCase, fail) });
    checkDeviceMemdev(device, backends, at, refusalCase, fail);
  });
  if (!refusalCase) checkNoOverlap(placed, fail);
  checkMaxmem(c, total, refusalCase, fail);
}

function checkDeviceAddr(device: CaseMemoryDevice, size: bigint, at: string, refusalCase: boolean, fail: (f: string, w: string) => never): { start: bigint; end: bigint } {
  if (typeof device.addr !== 'string' || !/^0x[0-9a-f]+$/i.test(device.addr)) fail(`${at}.addr`, 'must be a 0x… address');
  const start = BigInt(device.addr as string);
  if (!refusalCase && start % PAGE !== 0n) fail(`${at}.addr`, 'must be 4 KiB aligned');
  return { start, end: start + size };
}

function checkDeviceMemdev(device: CaseMemoryDevice, backends: readonly string[], at: string, refusalCase: boolean, fail: (f: string, w: string) => never): void {
  if (device.memdev === undefined) return;
  if (!refusalCase) fail(`${at}.memdev`, 'is only for negative cases (expect.refusal): each device gets its own backend');
  if (!backends.includes(device.memdev)) fail(`${at}.memdev`, `must name a backend the case declares (${backends.join(', ')})`);
}

function checkNoOverlap(placed: readonly { at: string; start: bigint; end: bigint }[], fail: (f: string, w: string) => never): void {
  for (const [i, a] of placed.entries()) {
    const b = placed.slice(i + 1).find((o) => o.start < a.end && a.start < o.end);
    if (b) fail(`${b.at}.addr`, `overlaps ${a.at} (only a negative case may state that)`);
  }
}

function checkMaxmem(c: Partial<CaseFile>, devices: bigint, refusalCase: boolean, fail: (f: string, w: string) => never): void {
  if (c.slots !== undefined && (!Number.isInteger(c.slots) || c.slots < 1 || c.slots > 256)) fail('slots', 'must be an integer from 1 to 256');
  if (c.maxmem === false) {
    if (!refusalCase) fail('maxmem', 'can be false only in a negative case (memory devices need maxmem)');
    if (c.slots !== undefined) fail('slots', 'needs maxmem');
    return;
  }
  if (c.maxmem === undefined) return;
  const maxmem = checkSize(c.maxmem, 'maxmem', fail);
  const needed = parseSize(c.memory as string) + devices;
  if (!refusalCase && maxmem < needed) fail('maxmem', `must be at least memory + the devices' sizes (${needed} bytes)`);
}

/** `expect.model` is a flag; `expect.refusal` says which rule is broken, what QEMU's error must mention, and optional wording. */
function checkModelAndRefusal(expect: Expectations, fail: (f: string, w: string) => never): void {
  if (expect.model !== undefined && typeof expect.model !== 'boolean') fail('expect.model', 'must be true or false');
  if (expect.refusal === undefined) return;
  const refusal: unknown = expect.refusal;
  if (typeof refusal !== 'object' || refusal === null || Array.isArray(refusal)) {
    fail('expect.refusal', 'must be {"rule": "…", "mentions": ["regex", …], "wording"?: {"v5": "…"}} (behaviour, not one implementation\'s words)');
  }
  const { rule, mentions, wording, ...extra } = refusal as Record<string, unknown>;
  const unknownKey = Object.keys(extra)[0];
  if (unknownKey !== undefined) fail(`expect.refusal.${unknownKey}`, 'is not a field (rule, mentions, wording)');
  if (typeof rule !== 'string' || rule.trim() === '') fail('expect.refusal.rule', 'must say in words which rule the configuration breaks');
  if (!Array.isArray(mentions) || mentions.length === 0) fail('expect.refusal.mentions', 'must list at least one regular expression QEMU\'s error must match');
  for (const [i, m] of (mentions as unknown[]).entries()) {
    if (typeof m !== 'string' || m.length === 0) fail(`expect.refusal.mentions[${i}]`, 'must be a non-empty regular expression string');
    try {
      new RegExp(m, 'i');
    } catch (error) {
      fail(`expect.refusal.mentions[${i}]`, `is not a regular expression: ${(error as Error).message}`);
    }
  }
  if (wording === undefined) return;
  if (typeof wording !== 'object' || wording === null || Array.isArray(wording)) fail('expect.refusal.wording', 'must map revision ids to messages');
  const known = loadProfiles().map((p) => p.id);
  for (const [id, text] of Object.entries(wording as Record<string, unknown>)) {
    if (!known.includes(id)) fail(`expect.refusal.wording.${id}`, `is not a revision (${known.join(', ')})`);
    if (typeof text !== 'string' || text.length === 0) fail(`expect.refusal.wording.${id}`, 'must be the message text');
  }
}

/**
 * `use` (the guest program's use steps) and `expect.use` (what they must show) come
 * together: a step without expectations would cost boot time and prove
 * nothing, expectations without the step could never be met.
 */
function checkUse(c: Partial<CaseFile>, fail: (f: string, w: string) => never): void {
  if (c.use === undefined) {
    if (c.expect?.use !== undefined) fail('expect.use', 'needs the steps that produce it: add "use": ["dax-pattern", "kmem-online"] (or one of them)');
    return;
  }
  if (!Array.isArray(c.use) || c.use.length === 0) fail('use', `must be a non-empty list of ${USE_STEPS.join(', ')}`);
  for (const [i, step] of (c.use as unknown[]).entries()) {
    if (!USE_STEPS.includes(step as UseStep)) fail(`use[${i}]`, `'${String(step)}' is not one of ${USE_STEPS.join(', ')}`);
    if ((c.use as unknown[]).indexOf(step) !== i) fail(`use[${i}]`, `repeats '${String(step)}'`);
  }
  if (c.expect?.refusal !== undefined) fail('use', 'cannot run in a case QEMU must refuse (the guest never boots)');
  if (c.expect?.use === undefined) fail('expect.use', 'must say per node what the use steps show: [{"node": 1, "daxPattern": true, "kmemOnline": true}]');
  checkUseExpectations(c.expect?.use, c, 'expect.use', fail);
}

function checkUseExpectations(use: unknown, c: Partial<CaseFile>, at: string, fail: (f: string, w: string) => never): void {
  if (c.use === undefined) fail(at, 'needs the case\'s "use" steps');
  if (!Array.isArray(use) || use.length === 0) fail(at, 'must be a non-empty list of {"node": N, "daxPattern": bool, "kmemOnline": bool}');
  const nodeIds = [...(c.nodes ?? []).map((n) => n.id), ...(c.devices ?? []).map((d) => d.node)];
  const steps = c.use ?? [];
  const seen = new Set<number>();
  for (const [i, entry] of (use as unknown[]).entries()) {
    const where = `${at}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(where, 'must be an object');
    const { node, ...flags } = entry as Record<string, unknown>;
    if (!Number.isInteger(node) || !nodeIds.includes(node as number)) fail(`${where}.node`, `must be one of the case's nodes (${[...new Set(nodeIds)].join(', ')})`);
    if (seen.has(node as number)) fail(`${where}.node`, `repeats node ${String(node)}`);
    seen.add(node as number);
    const unknownKey = Object.keys(flags).find((k) => !Object.values(USE_FIELDS).includes(k as 'daxPattern'));
    if (unknownKey !== undefined) fail(`${where}.${unknownKey}`, 'is not a field (node, daxPattern, kmemOnline)');
    for (const step of USE_STEPS) {
      const field = USE_FIELDS[step];
      const value = flags[field];
      if (steps.includes(step) && typeof value !== 'boolean') fail(`${where}.${field}`, `must be true or false: the case runs ${step}`);
      if (!steps.includes(step) && value !== undefined) fail(`${where}.${field}`, `needs the ${step} step in "use"`);
    }
  }
}

function checkKernelArgs(args: unknown, fail: (f: string, w: string) => never): void {
  if (args === undefined) return;
  if (!Array.isArray(args) || args.length === 0) fail('kernelArgs', 'must be a non-empty list of kernel parameters');
  for (const [i, arg] of (args as unknown[]).entries()) {
    const key = typeof arg === 'string' ? KERNEL_ARG.exec(arg)?.[1] : undefined;
    if (key === undefined) fail(`kernelArgs[${i}]`, `'${String(arg)}' must be one kernel parameter: word or key=value of letters, digits and _.,-`);
    if (HARNESS_KERNEL_ARGS.test(key as string)) fail(`kernelArgs[${i}]`, `'${key}' is set by the harness itself`);
  }
}

const HMAT_DATA_TYPES: readonly HmatDataType[] = ['access-latency', 'read-latency', 'write-latency', 'access-bandwidth', 'read-bandwidth', 'write-bandwidth'];
const HMAT_LB_KEYS = ['initiator', 'target', 'dataType', 'latency', 'bandwidth'];
const MIB = 1n << 20n;

/**
 * `hmat` and the nodes' `initiator`: QEMU's own rules (hw/core/numa.c
 * parse_numa_hmat_lb(): the initiator has vCPUs, the target exists, latency for
 * latency types and bandwidth (1 MiB aligned) for bandwidth types, no pair
 * twice) and the model's: a node with memory and no vCPUs names its initiator,
 * so the kernel links exactly that one (drivers/acpi/numa/hmat.c).
 */
function checkHmat(c: Partial<CaseFile>, fail: (f: string, w: string) => never): void {
  const nodes = c.nodes ?? [];
  const withCpus = nodes.filter((n) => n.cpus !== undefined).map((n) => n.id);
  nodes.forEach((node, i) => {
    if (node.initiator === undefined) return;
    if (c.hmat === undefined) fail(`nodes[${i}].initiator`, 'needs hmat (QEMU takes initiator= only with -machine hmat=on)');
    if (node.cpus !== undefined) fail(`nodes[${i}].initiator`, 'is only for a node without vCPUs (a node with vCPUs is its own initiator)');
    if (!withCpus.includes(node.initiator as number)) fail(`nodes[${i}].initiator`, `must be a node with vCPUs (${withCpus.join(', ') || 'none'})`);
  });
  if (c.hmat === undefined) return;
  const lb: unknown = (c.hmat as { lb?: unknown }).lb;
  if (typeof c.hmat !== 'object' || c.hmat === null || !Array.isArray(lb) || lb.length === 0) fail('hmat', 'must be {"lb": [{"initiator", "target", "dataType", "latency" | "bandwidth"}, …]}');
  const unknownKey = Object.keys(c.hmat as object).find((k) => k !== 'lb');
  if (unknownKey !== undefined) fail(`hmat.${unknownKey}`, 'is not a field (lb)');
  nodes.forEach((node, i) => {
    if (node.cpus === undefined && node.memdev !== false && node.initiator === undefined) fail(`nodes[${i}].initiator`, 'must name the node whose vCPUs are local to this memory (hmat: a node with memory and no vCPUs)');
  });
  const seen = new Set<string>();
  (lb as HmatLbEntry[]).forEach((entry, i) => {
    const at = `hmat.lb[${i}]`;
    if (typeof entry !== 'object' || entry === null) fail(at, 'must be an object');
    const extra = Object.keys(entry).find((k) => !HMAT_LB_KEYS.includes(k));
    if (extra !== undefined) fail(`${at}.${extra}`, `is not a field (${HMAT_LB_KEYS.join(', ')})`);
    if (!withCpus.includes(entry.initiator)) fail(`${at}.initiator`, `must be a node with vCPUs (${withCpus.join(', ') || 'none'})`);
    if (!nodes.some((n) => n.id === entry.target)) fail(`${at}.target`, 'must be one of the case\'s nodes');
    if (!HMAT_DATA_TYPES.includes(entry.dataType)) fail(`${at}.dataType`, `must be one of ${HMAT_DATA_TYPES.join(', ')}`);
    if (entry.dataType.endsWith('latency')) {
      if (!Number.isInteger(entry.latency) || (entry.latency as number) < 1 || (entry.latency as number) > 0xfffe) fail(`${at}.latency`, 'must be nanoseconds, an integer from 1 to 65534');
      if (entry.bandwidth !== undefined) fail(`${at}.bandwidth`, 'is for the bandwidth data types');
    } else {
      const bw = checkSize(entry.bandwidth, `${at}.bandwidth`, fail);
      if (bw === 0n || bw % MIB !== 0n) fail(`${at}.bandwidth`, 'must be a non-zero multiple of 1 MiB per second (QEMU refuses others)');
      if (entry.latency !== undefined) fail(`${at}.latency`, 'is for the latency data types');
    }
    const key = `${entry.initiator}>${entry.target}:${entry.dataType}`;
    if (seen.has(key)) fail(at, `repeats initiator ${entry.initiator}, target ${entry.target}, ${entry.dataType}`);
    seen.add(key);
  });
}

function checkProfiles(profiles: unknown, fail: (f: string, w: string) => never): void {
  const known = loadProfiles().map((p) => p.id);
  if (!Array.isArray(profiles) || profiles.length === 0) fail('profiles', `must be a non-empty list of ${known.join(', ')}`);
  for (const id of profiles as unknown[]) {
    if (typeof id !== 'string' || !known.includes(id)) fail('profiles', `'${String(id)}' is not one of ${known.join(', ')}`);
  }
}

function checkSize(value: unknown, field: string, fail: (f: string, w: string) => never): bigint {
  if (typeof value !== 'string') return fail(field, 'must be a size string like 8G');
  try {
    return parseSize(value);
  } catch {
    return fail(field, `'${value}' is not a size like 8G`);
  }
}

function cpuRangeFits(range: string, smp: number): boolean {
  const match = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!match) return false;
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  return first <= last && last < smp;
}

