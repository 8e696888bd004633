/**
 * The guest program's raw-table sections (images/guest/init `raw_table`): a header
 * line, then the file in base64. Header `sha256 H` (the file follows),
 * `absent PATH` (no such file) or `unavailable WHY` (this kernel cannot show
 * that layer at all). The hash catches a line that a kernel message on the
 * same console cut, dropped or displaced.
 */
import { createHash } from 'node:crypto';

/** A raw table as the guest read it. */
export type RawTable =
  | { state: 'present'; bytes: Buffer }
  | { state: 'absent'; path: string }
  | { state: 'unavailable'; why: string }
  | { state: 'damaged'; why: string };

/** The section names the guest program prints, with the table each holds. */
export const RAW_SECTIONS = { 'fw-cfg-e820': 'fw_cfg etc/e820', 'acpi-SRAT': 'ACPI SRAT', 'acpi-SLIT': 'ACPI SLIT', 'acpi-HMAT': 'ACPI HMAT' } as const;
export type RawSectionName = keyof typeof RAW_SECTIONS;

export function isRawSection(name: string): name is RawSectionName {
  return Object.hasOwn(RAW_SECTIONS, name);
}

const HEADER = /^sha256 ([0-9a-f]{64})$/;
const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes one section's lines; never throws (a damaged section says why). Lines that are not base64 (kernel messages) are returned as stray. */
export function decodeRawSection(lines: readonly string[], closed: boolean): { table: RawTable; stray: string[] } {
  const text = lines.map((l) => l.trim()).filter((l) => l !== '');
  const [first, ...rest] = text;
  if (first === undefined) return { table: { state: 'damaged', why: closed ? 'the section is empty' : 'the section never ended' }, stray: [] };
  if (first.startsWith('absent ')) return { table: { state: 'absent', path: first.slice('absent '.length) }, stray: rest };
  if (first.startsWith('unavailable ')) return { table: { state: 'unavailable', why: first.slice('unavailable '.length) }, stray: rest };
  const header = HEADER.exec(first);
  if (!header) return { table: { state: 'damaged', why: `no 'sha256 H' header: '${first}'` }, stray: rest };
  if (!closed) return { table: { state: 'damaged', why: 'the section never ended (the guest stopped while printing it)' }, stray: [] };
  const body = rest.filter((l) => BASE64_LINE.test(l));
  const stray = rest.filter((l) => !BASE64_LINE.test(l));
  const bytes = Buffer.from(body.join(''), 'base64');
  const sha256 = header[1] as string;
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== sha256) return { table: { state: 'damaged', why: `${bytes.length} bytes decoded with sha256 ${got}; the guest read sha256 ${sha256}` }, stray };
  return { table: { state: 'present', bytes }, stray };
}
