/** One device-dax instance as the guest program lists it; undefined where it printed `-`. */
export interface DaxDevice {
  name: string;
  size?: bigint;
  targetNode?: number;
  numaNode?: number;
}

export interface DaxParse {
  devices: DaxDevice[];
  stray: string[];
}

// `<name> size=<bytes> target_node=<n> numa_node=<n>`; nodes may be -1 (NUMA_NO_NODE).
const ROW = /^(\S+) size=(\d+|-) target_node=(-?\d+|-) numa_node=(-?\d+|-)$/;

/** Parses the guest program's `dax` section. */
export function parseDax(lines: readonly string[]): DaxParse {
  const devices: DaxDevice[] = [];
  const stray: string[] = [];
  for (const raw of lines) {
    const text = raw.trim();
    const match = ROW.exec(text);
    if (!match) {
      if (text !== '') stray.push(raw);
      continue;
    }
    const [, name = '', size = '-', target = '-', numa = '-'] = match;
    devices.push({ name, size: orUndefined(size, BigInt), targetNode: orUndefined(target, Number), numaNode: orUndefined(numa, Number) });
  }
  return { devices, stray };
}

function orUndefined<T>(value: string, convert: (text: string) => T): T | undefined {
  return value === '-' ? undefined : convert(value);
}
