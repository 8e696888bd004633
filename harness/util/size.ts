import { HarnessError } from './errors.ts';

/** Byte sizes and addresses: always bigint, never a JS number (addresses are 64-bit). */

const UNITS: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

/** Parses QEMU-style sizes ("8G", "512M", "4096") into bytes. */
export function parseSize(text: string): bigint {
  const match = /^(\d+)([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match?.[1]) throw new HarnessError(`'${text}' is not a size`, 'write sizes like 512M, 8G or a byte count');
  return BigInt(match[1]) * (UNITS[(match[2] ?? '').toUpperCase()] ?? 1n);
}

/** Renders bytes as QEMU's command line takes them: the largest exact unit ("8G", "1536M"). */
export function toQemuSize(bytes: bigint): string {
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    const scale = UNITS[unit] ?? 1n;
    if (bytes >= scale && bytes % scale === 0n) return `${bytes / scale}${unit}`;
  }
  return `${bytes}`;
}

/** Human-readable size for reports: "8 GiB", "640 KiB", "1.5 GiB". */
export function humanSize(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let unit = 0;
  let scaled = bytes;
  while (scaled >= 1024n && unit < units.length - 1 && (scaled % 1024n === 0n || scaled >= 1024n * 1024n)) {
    scaled /= 1024n;
    unit += 1;
  }
  const divisor = 1n << BigInt(10 * unit);
  if (bytes % divisor === 0n) return `${bytes / divisor} ${units[unit]}`;
  const tenths = (bytes * 10n) / divisor;
  return `${tenths / 10n}.${tenths % 10n} ${units[unit]}`;
}

/** `0x…` with at least `digits` hex digits, as the kernel prints addresses. */
export function hex(value: bigint, digits = 1): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}
