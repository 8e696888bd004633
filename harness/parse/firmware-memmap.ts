/** One /sys/firmware/memmap/N entry; `end` inclusive, as sysfs shows it. */
export interface FirmwareMemmapRow {
  start: bigint;
  end: bigint;
  /** As sysfs prints it: `System RAM`, `Reserved`, `Soft Reserved`, `ACPI Tables`… */
  type: string;
}

export interface FirmwareMemmapParse {
  rows: FirmwareMemmapRow[];
  stray: string[];
}

// The guest program prints `<start> <end> <type>`; sysfs gives start/end as `0x%llx`.
const ROW = /^(0x[0-9a-fA-F]+) (0x[0-9a-fA-F]+) (\S.*)$/;

/** Parses the guest program's `firmware-memmap` section. */
export function parseFirmwareMemmap(lines: readonly string[]): FirmwareMemmapParse {
  const rows: FirmwareMemmapRow[] = [];
  const stray: string[] = [];
  for (const text of lines) {
    const match = ROW.exec(text.trim());
    if (!match) {
      if (text.trim() !== '') stray.push(text);
      continue;
    }
    const [, start = '', end = '', type = ''] = match;
    rows.push({ start: BigInt(start), end: BigInt(end), type });
  }
  return { rows, stray };
}
