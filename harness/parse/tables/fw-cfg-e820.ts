/**
 * QEMU's fw_cfg file `etc/e820` as QEMU made it (hw/i386/e820_memory_layout.c:
 * struct e820_entry, packed little-endian): u64 address, u64 length, u32 type,
 * 20 bytes an entry, in the order QEMU added them.
 */
import type { E820Row } from '../../core/vocabulary.ts';

const ENTRY_BYTES = 20;

/** The entries as rows (end inclusive, like the kernel's). Throws RangeError for bytes that are not whole entries or an entry of length 0. */
export function decodeFwCfgE820(bytes: Uint8Array): E820Row[] {
  if (bytes.length % ENTRY_BYTES !== 0) throw new RangeError(`etc/e820 is ${bytes.length} bytes, not a multiple of ${ENTRY_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: E820Row[] = [];
  for (let at = 0; at < bytes.length; at += ENTRY_BYTES) {
    const start = view.getBigUint64(at, true);
    const length = view.getBigUint64(at + 8, true);
    const type = view.getUint32(at + 16, true);
    if (length === 0n) throw new RangeError(`etc/e820 entry ${at / ENTRY_BYTES} at 0x${start.toString(16)} has length 0`);
    rows.push({ start, end: start + length - 1n, type });
  }
  return rows;
}
