const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * A size for a reader's eye, at most about five digits: a whole number in the
 * largest unit that divides it exactly ("2047 MiB", "8 GiB"), else one decimal
 * in the largest unit that keeps at least 10 of it ("1023.8 MiB", not
 * "1048320 KiB"). Labels only: checks compare exact bytes. All bigint.
 */
export function shortSize(bytes: bigint): string {
  if (bytes === 0n) return '0 B';
  for (let unit = UNITS.length - 1; unit >= 0; unit -= 1) {
    const divisor = unitBytes(unit);
    if (bytes % divisor === 0n && bytes / divisor < 10_000n) return `${bytes / divisor} ${UNITS[unit]}`;
  }
  let unit = UNITS.length - 1;
  while (unit > 0 && bytes < 10n * unitBytes(unit)) unit -= 1;
  const tenths = (bytes * 10n + unitBytes(unit) / 2n) / unitBytes(unit);
  return `${tenths / 10n}.${tenths % 10n} ${UNITS[unit]}`;
}

function unitBytes(unit: number): bigint {
  return 1n << BigInt(10 * unit);
}
