/**
 * The guest program's use steps (images/guest/init, `use_steps`): the `use-dax`
 * section (/bin/dax-use's lines, images/guest/dax-use.c) and the `use-kmem`
 * section (a dax device reconfigured to System RAM).
 */

/** One `dax-use` line: a dax device mapped and checked, or skipped. */
export interface DaxPatternResult {
  device: string;
  /** The device's target_node; undefined when skipped or unread. */
  node?: number;
  size?: bigint;
  align?: bigint;
  /** Bytes written through one mapping and read back through a second. */
  checked: bigint;
  /** `ok`, `fail`, or `skipped` (the device was not held by device_dax). */
  result: 'ok' | 'fail' | 'skipped';
  /** Why it failed (`mismatch-at-offset-0x…`, `mmap-failed`…) or was skipped (`driver=kmem`). */
  reason?: string;
}

/** One `kmem` line: a dax device reconfigured to System RAM. */
export interface KmemResult {
  device: string;
  node?: number;
  size?: bigint;
  start?: bigint;
  /** The driver that held it before, and after. */
  from: string;
  driver: string;
  /** Writes: `ok`, `skipped`, or the shell's error. */
  unbind: string;
  bind: string;
  /** The device's whole memory blocks, those this step onlined, those that refused. */
  blocks: number;
  onlined: number;
  failed: number;
}

/** What the `use-kmem` section shows. */
export interface KmemStep {
  blockSize: bigint;
  autoOnline?: string;
  /** MemTotal per node in bytes, before and after the step. */
  before: Record<number, bigint>;
  after: Record<number, bigint>;
  devices: KmemResult[];
  /** The step's time on the guest's clock. */
  elapsedMs?: number;
}

export interface UseParse<T> {
  value: T;
  stray: string[];
}

// Each use section ends with the time it took on the guest's clock (/proc/uptime, centiseconds).
const ELAPSED = /^elapsed-cs (\d+)$/;

/** The steps' own time, in milliseconds of the guest's clock. */
export interface UseTiming {
  elapsedMs?: number;
}

const DAX_USE = /^dax-use (\S+) node=(-?\d+) size=(\d+) align=(\d+) checked=(\d+) result=(ok|fail)(?: reason=(\S+))?$/;
const DAX_SKIPPED = /^dax-use (\S+) skipped (driver=\S+)$/;

/** Parses the `use-dax` section. */
export function parseUseDax(lines: readonly string[]): UseParse<DaxPatternResult[]> & UseTiming {
  const value: DaxPatternResult[] = [];
  const stray: string[] = [];
  let elapsedMs: number | undefined;
  for (const raw of lines) {
    const text = raw.trim();
    const elapsed = ELAPSED.exec(text);
    if (elapsed) {
      elapsedMs = Number(elapsed[1]) * 10;
      continue;
    }
    const m = DAX_USE.exec(text);
    if (m) {
      const [, device = '', node = '', size = '', align = '', checked = '', result = 'fail', reason] = m;
      value.push({ device, node: Number(node), size: BigInt(size), align: BigInt(align), checked: BigInt(checked), result: result as 'ok' | 'fail', ...(reason ? { reason } : {}) });
      continue;
    }
    const skipped = DAX_SKIPPED.exec(text);
    if (skipped) value.push({ device: skipped[1] ?? '', checked: 0n, result: 'skipped', reason: skipped[2] ?? '' });
    else if (text !== '') stray.push(raw);
  }
  return { value, stray, ...(elapsedMs === undefined ? {} : { elapsedMs }) };
}

const BLOCK_SIZE = /^block-size bytes=(\d+)$/;
const AUTO_ONLINE = /^auto-online (\S+)$/;
const MEMTOTAL = /^memtotal (before|after) node=(\d+) kb=(\d+)$/;
const KMEM = /^kmem (\S+) node=(-?\d+|-) size=(\d+|-) start=(0x[0-9a-f]+|-) from=(\S+) unbind=(\S+) bind=(\S+) driver=(\S+) blocks=(\d+) onlined=(\d+) failed=(\d+)$/;

/** Parses the `use-kmem` section. */
export function parseUseKmem(lines: readonly string[]): UseParse<KmemStep> {
  const value: KmemStep = { blockSize: 0n, before: {}, after: {}, devices: [] };
  const stray: string[] = [];
  for (const raw of lines) {
    const text = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = ELAPSED.exec(text))) value.elapsedMs = Number(m[1]) * 10;
    else if ((m = BLOCK_SIZE.exec(text))) value.blockSize = BigInt(m[1] ?? '0');
    else if ((m = AUTO_ONLINE.exec(text))) value.autoOnline = m[1];
    else if ((m = MEMTOTAL.exec(text))) value[m[1] === 'before' ? 'before' : 'after'][Number(m[2])] = BigInt(m[3] ?? '0') * 1024n;
    else if ((m = KMEM.exec(text))) {
      const [, device = '', node = '-', size = '-', start = '-', from = '', unbind = '', bind = '', driver = '', blocks = '0', onlined = '0', failed = '0'] = m;
      value.devices.push({
        device,
        ...(node === '-' ? {} : { node: Number(node) }),
        ...(size === '-' ? {} : { size: BigInt(size) }),
        ...(start === '-' ? {} : { start: BigInt(start) }),
        from,
        driver,
        unbind,
        bind,
        blocks: Number(blocks),
        onlined: Number(onlined),
        failed: Number(failed),
      });
    } else if (text !== '') stray.push(raw);
  }
  return { value, stray };
}
