import { readFile } from 'node:fs/promises';
import { parseSerialLog, toJsonValue } from '../../parse/log.ts';
import { sratText } from '../../check/layers.ts';
import { e820Kind } from '../../core/vocabulary.ts';
import { paddedRangeText } from '../../core/range-text.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { emitJson, type JsonTarget } from '../json-output.ts';
import { jsonField, parseCommandLine } from '../options.ts';

const usage = `usage: memmap-harness parse FILE [--json [FILE.json]]

Parses a saved guest serial log: BIOS-e820 rows, SRAT memory rows and the
probe's sections (iomem, firmware memmap, node meminfo, dax). A file that is
binary, or has no kernel banner and no E820 or SRAT line, is refused (exit 2).

  --json [FILE.json]  everything as JSON (addresses as 0x… strings), on stdout or to FILE.json
  -h, --help    show this help`;

export const parseCommand = defineCommand({
  name: 'parse',
  summary: "parse a saved serial log's E820, SRAT and probe sections",
  usage,
  parse: parseParseArgs,
  async act({ file, json }) {
    const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`parse: cannot read ${file}: ${error.code ?? error.message}`, 'give the path of a saved serial log');
    });
    if (looksBinary(bytes)) throw new UsageError(`parse: ${file} is binary data, not a serial log of a Linux boot`, 'give the text log QEMU wrote for the guest\'s serial port');
    const log = parseSerialLog(bytes.toString('latin1'));
    if (log.kernelVersion === undefined && log.e820.length === 0 && log.srat.length === 0) {
      throw new UsageError(`parse: ${file} is not a serial log of a Linux boot (no 'Linux version' banner, no BIOS-e820 or SRAT lines)`, 'give the log of a guest booted with console=ttyS0');
    }
    if (json) {
      const { lines: _lines, ...rest } = log;
      await emitJson(json, toJsonValue(rest));
      return 0;
    }
    console.log(`kernel: ${log.kernelVersion ?? '(no banner)'}`);
    for (const e of log.e820) console.log(`e820  ${paddedRangeText(e)}  ${e820Kind(e.type)}`);
    for (const s of log.srat) console.log(`srat  node ${s.node} pxm ${s.pxm}  ${paddedRangeText(s)}`);
    console.log(`probe: ${log.guest.done ? 'complete' : log.guest.initStarted ? 'incomplete' : 'absent'}`);
    const { fwCfgE820, srat } = log.layers;
    if (fwCfgE820.state === 'read') for (const e of fwCfgE820.value) console.log(`fw_cfg  ${paddedRangeText(e)}  ${e820Kind(e.type)}`);
    else console.log(`fw_cfg: ${fwCfgE820.state}: ${fwCfgE820.why}`);
    if (srat.state === 'read') for (const m of srat.value.memory) console.log(`acpi-srat  ${sratText(m)}`);
    else console.log(`acpi-srat: ${srat.state}: ${srat.why}`);
    for (const w of log.warnings) console.log(`warning: ${w}`);
    return 0;
  },
});

/**
 * Serial logs are text with a few escape sequences; a NUL byte, or many bytes
 * that are neither printable nor whitespace, means something else was given.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return true;
  let odd = 0;
  for (const b of bytes) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x1b) odd += 1;
  return bytes.length > 0 && odd / bytes.length > 0.01;
}

function parseParseArgs(argv: string[]): { file: string; json?: JsonTarget } {
  const { positionals, json } = parseCommandLine('parse', argv, {}, true);
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('parse: give exactly one FILE', "run 'memmap-harness parse --help'");
  return { file, ...jsonField(json) };
}
