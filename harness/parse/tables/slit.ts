/** The ACPI System Locality Information Table (ACPI 6.5, 5.2.17): a u64 count N, then N×N relative distances (u8). */
import { ACPI_HEADER_BYTES, AcpiTableError, readAcpiHeader, viewOf, type AcpiHeader } from './acpi-header.ts';

export interface SlitTable {
  header: AcpiHeader;
  /** distances[i][j]: from locality i to j (10 = local). */
  distances: number[][];
}

/** Decodes a SLIT. Throws AcpiTableError for a bad header or a matrix that does not fit. */
export function parseSlit(bytes: Uint8Array): SlitTable {
  const header = readAcpiHeader(bytes, 'SLIT');
  if (bytes.length < ACPI_HEADER_BYTES + 8) throw new AcpiTableError(`SLIT: ${bytes.length} bytes, no locality count`);
  const count = viewOf(bytes).getBigUint64(ACPI_HEADER_BYTES, true);
  const from = ACPI_HEADER_BYTES + 8;
  if (count > 256n || from + Number(count * count) !== bytes.length) throw new AcpiTableError(`SLIT: ${count} localities do not fill ${bytes.length - from} bytes of distances`);
  const n = Number(count);
  const distances = Array.from({ length: n }, (_, i) => Array.from(bytes.subarray(from + i * n, from + (i + 1) * n)));
  return { header, distances };
}
