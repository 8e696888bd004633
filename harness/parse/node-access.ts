/**
 * The guest program's `node-access` section (images/guest/init): each node's access
 * class 0 as Linux describes it from ACPI HMAT (CONFIG_HMEM_REPORTING,
 * /sys/devices/system/node/nodeN/access0/initiators/): the initiator nodes
 * linked there and their read/write latency (ns) and bandwidth (MB/s).
 */

/** One node's access0: absent (no HMAT attributes registered), or its initiators and values; a value the guest could not read is undefined. */
export type NodeAccess =
  | { node: number; state: 'absent' }
  | {
      node: number;
      state: 'present';
      /** Node ids linked under access0/initiators/, in the order listed. */
      initiators: number[];
      readLatency?: number;
      writeLatency?: number;
      readBandwidth?: number;
      writeBandwidth?: number;
    };

export interface NodeAccessParse {
  nodes: NodeAccess[];
  /** The section's time on the guest's clock (its `uptime T0 T1` line). */
  elapsedMs?: number;
  stray: string[];
}

const ABSENT = /^node (\d+) access0 absent$/;
const PRESENT = /^node (\d+) access0 initiators=(-|\d+(?:,\d+)*) read_latency=(\d+|-) write_latency=(\d+|-) read_bandwidth=(\d+|-) write_bandwidth=(\d+|-)$/;
const UPTIME = /^uptime (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/;

/** Parses the `node-access` section; lines that fit no row are stray. */
export function parseNodeAccess(lines: readonly string[]): NodeAccessParse {
  const out: NodeAccessParse = { nodes: [], stray: [] };
  for (const raw of lines) {
    const text = raw.trim();
    if (text === '') continue;
    const absent = ABSENT.exec(text);
    const present = PRESENT.exec(text);
    const uptime = UPTIME.exec(text);
    if (absent) out.nodes.push({ node: Number(absent[1]), state: 'absent' });
    else if (present) {
      const [, node, inits, rl, wl, rb, wb] = present as unknown as [string, string, string, string, string, string, string];
      out.nodes.push({
        node: Number(node),
        state: 'present',
        initiators: inits === '-' ? [] : inits.split(',').map(Number),
        ...value('readLatency', rl),
        ...value('writeLatency', wl),
        ...value('readBandwidth', rb),
        ...value('writeBandwidth', wb),
      });
    } else if (uptime) out.elapsedMs = Math.max(0, Math.round((Number(uptime[2]) - Number(uptime[1])) * 1000));
    else out.stray.push(raw);
  }
  return out;
}

function value<K extends string>(key: K, text: string): Partial<Record<K, number>> {
  return text === '-' ? {} : ({ [key]: Number(text) } as Record<K, number>);
}
