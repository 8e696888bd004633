/**
 * ACPICA's `iasl -d` as the reference decoder of raw ACPI tables (QEMU's
 * bios-tables-test uses it): disassembles a table into a temporary directory
 * and reads back the SRAT's memory affinity structures from its text. Runs
 * iasl through an argument array; a missing iasl is a MissingToolError naming
 * acpica-tools, never a skip.
 */
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../../harness/util/host-tools.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

export interface IaslMemoryAffinity {
  pxm: number;
  base: bigint;
  length: bigint;
  flags: number;
  enabled: boolean;
  hotpluggable: boolean;
  nonVolatile: boolean;
}

export interface IaslSrat {
  signature: string;
  length: number;
  memory: IaslMemoryAffinity[];
  /** Processor Local APIC/SAPIC and x2APIC affinity structures. */
  cpuCount: number;
  /** iasl's complaint about the checksum, if it has one. */
  checksumComplaint?: string;
  text: string;
}

/** `iasl -d` on `bytes` (written to a temporary file), its .dsl text. */
export async function iaslDisassemble(bytes: Uint8Array, name = 'table'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'memmap-harness-iasl-'));
  try {
    const file = join(dir, `${name}.dat`);
    await writeFile(file, bytes);
    await execa(await toolPath('iasl'), ['-d', file], { cwd: dir, timeout: scaledMs(60_000) });
    return await readFile(join(dir, `${name}.dsl`), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The SRAT as iasl reads it. */
export async function iaslSrat(bytes: Uint8Array): Promise<IaslSrat> {
  const text = await iaslDisassemble(bytes, 'srat');
  const field = (block: string, label: string): string => {
    const m = new RegExp(`^\\[[0-9A-F]+h [0-9]+ +[0-9]+\\] +${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} : ([0-9A-Fa-f]+)`, 'm').exec(block);
    if (!m) throw new Error(`iasl output has no '${label}' in:\n${block}`);
    return m[1] as string;
  };
  const bit = (block: string, label: string) => new RegExp(`^ +${label} : 1$`, 'm').test(block);
  const blocks = text.split(/(?=^\[[0-9A-F]+h [0-9]+ +1\] +Subtable Type : )/m).slice(1);
  const memory = blocks
    .filter((b) => /Subtable Type : 01 \[Memory Affinity\]/.test(b))
    .map((b) => ({
      pxm: parseInt(field(b, 'Proximity Domain'), 16),
      base: BigInt(`0x${field(b, 'Base Address')}`),
      length: BigInt(`0x${field(b, 'Address Length')}`),
      flags: parseInt(field(b, 'Flags (decoded below)'), 16),
      enabled: bit(b, 'Enabled'),
      hotpluggable: bit(b, 'Hot Pluggable'),
      nonVolatile: bit(b, 'Non-Volatile'),
    }));
  const cpuCount = blocks.filter((b) => /Subtable Type : 0[02] \[Processor Local (APIC\/SAPIC|x2APIC) Affinity\]/.test(b)).length;
  const header = text.split(/^\[[0-9A-F]+h [0-9]+ +1\] +Subtable Type/m)[0] ?? '';
  const signature = /Signature : "(\w{4})"/.exec(header)?.[1] ?? '';
  const length = parseInt(/Table Length : ([0-9A-F]+)/.exec(header)?.[1] ?? 'NaN', 16);
  const complaint = /Incorrect checksum[^*]*/i.exec(header)?.[0]?.trim();
  return { signature, length, memory, cpuCount, ...(complaint ? { checksumComplaint: complaint } : {}), text };
}

/** One HMAT structure as iasl prints it: every `Label : value` field in order (hex as printed). */
export interface IaslHmatStructure {
  type: number;
  fields: { label: string; value: string }[];
}

export interface IaslHmat {
  signature: string;
  revision: number;
  length: number;
  structures: IaslHmatStructure[];
}

/** Reads the text of `iasl -d` on an HMAT (the committed .dsl or a fresh one): header fields and each structure's fields. */
export function readIaslHmat(text: string): IaslHmat {
  const [header = '', ...blocks] = text.split(/(?=^\[[0-9A-F]+h [0-9]+ +2\] +Structure Type : )/m);
  const headerField = (label: string) => new RegExp(`${label} : "?([0-9A-Za-z]+)"?`).exec(header)?.[1] ?? '';
  const structures = blocks.map((block) => {
    const fields = [...block.matchAll(/^\[[0-9A-F]+h [0-9]+ +\d+\] +(.+?) : ([0-9A-Fa-f]+)/gm)].map((m) => ({ label: (m[1] as string).trim(), value: m[2] as string }));
    const type = parseInt(fields[0]?.value ?? 'NaN', 16);
    return { type, fields };
  });
  return { signature: headerField('Signature'), revision: parseInt(headerField('Revision'), 16), length: parseInt(headerField('Table Length'), 16), structures };
}

/** The values of every field named `label` in a structure, as numbers (bigint: Entry Base Unit and sizes are 64-bit). */
export function iaslValues(s: IaslHmatStructure, label: string): bigint[] {
  return s.fields.filter((f) => f.label === label).map((f) => BigInt(`0x${f.value}`));
}
