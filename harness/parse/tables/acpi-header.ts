/**
 * The common ACPI table header (ACPI 6.5, 5.2.6): 36 bytes, little-endian.
 * The whole table's bytes must sum to 0 mod 256.
 */

export interface AcpiHeader {
  signature: string;
  length: number;
  revision: number;
  checksum: number;
  oemId: string;
  oemTableId: string;
  oemRevision: number;
  creatorId: string;
  creatorRevision: number;
}

export const ACPI_HEADER_BYTES = 36;

/** A table that is not what its header says: wrong signature, length or checksum. */
export class AcpiTableError extends RangeError {}

/** The header of `bytes`, checked: signature `expected`, length equal to the bytes given, checksum zero. Throws AcpiTableError. */
export function readAcpiHeader(bytes: Uint8Array, expected: string): AcpiHeader {
  if (bytes.length < ACPI_HEADER_BYTES) throw new AcpiTableError(`${expected}: ${bytes.length} bytes, shorter than an ACPI header`);
  const view = viewOf(bytes);
  const text = (at: number, n: number) => Buffer.from(bytes.subarray(at, at + n)).toString('latin1');
  const header: AcpiHeader = {
    signature: text(0, 4),
    length: view.getUint32(4, true),
    revision: bytes[8] as number,
    checksum: bytes[9] as number,
    oemId: text(10, 6),
    oemTableId: text(16, 8),
    oemRevision: view.getUint32(24, true),
    creatorId: text(28, 4),
    creatorRevision: view.getUint32(32, true),
  };
  if (header.signature !== expected) throw new AcpiTableError(`expected an ${expected} table, the signature is '${header.signature}'`);
  if (header.length !== bytes.length) throw new AcpiTableError(`${expected}: the header says ${header.length} bytes, the table has ${bytes.length}`);
  const sum = bytes.reduce((acc, b) => (acc + b) & 0xff, 0);
  if (sum !== 0) throw new AcpiTableError(`${expected}: checksum does not add up (sum 0x${sum.toString(16)}, want 0)`);
  return header;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
