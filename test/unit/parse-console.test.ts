import { describe, expect, it } from 'vitest';
import { cleanText, normaliseConsole } from '../../harness/parse/console.ts';
import { parseSerialLog, toJson } from '../../harness/parse/log.ts';
import { fixture, captures, realLine } from './serial-fixtures.ts';

/*
 * Inputs are the real serial captures in test/fixtures/serial (its README says
 * how each was made). Where a test needs a shape no capture has, it derives it
 * from a real capture by one stated transformation; no log text is made up.
 */

const SEABIOS_61 = 'bookworm-6.1-seabios-bookworm-q35-two-node.log';
const OVMF_61 = 'bookworm-6.1-ovmf-sid-q35-two-node.log';

/**
 * What a CONFIG_PRINTK_TIME=n kernel (the harness's minimal kernel) prints: the
 * same log, timestamps removed (also behind the firmware's escape sequences, where
 * OVMF leaves the kernel's first line).
 */
const withoutTimestamps = (raw: string): string => raw.replace(/^((?:\u001b\[[0-9;=?]*[A-Za-z])*)\[\s*\d+\.\d+\] /gm, '$1');

describe('normaliseConsole on real captures', () => {
  it.each(captures())('%s: CRLF split, last line kept, no CR or control character left', (name) => {
    const raw = fixture(name);
    const lines = normaliseConsole(raw);
    const physical = raw.split('\n').length - (raw.endsWith('\n') ? 1 : 0);
    expect(lines).toHaveLength(physical);
    expect(lines.every((line) => !/[\u0000-\u0008\u000A-\u001F\u007F-\u009F]/.test(line.text))).toBe(true);
    expect(lines.map((line) => line.rawLine)).toEqual(lines.map((_, i) => i + 1));
    // Every capture ends with the guest powering off.
    expect(lines.at(-1)?.text).toBe('reboot: Power down');
  });

  it('takes the printk timestamp off into `time`', () => {
    const lines = normaliseConsole(fixture(SEABIOS_61));
    expect(lines[0]?.text).toMatch(/^Linux version 6\.1\.0-50-amd64 /);
    expect(lines[0]?.time).toBe(0);
    const srat = lines.find((line) => line.text.startsWith('ACPI: SRAT: Node 1 '));
    expect(srat?.time).toBeGreaterThan(0);
    expect(srat?.time).toBeLessThan(1);
  });

  it("keeps tabs and /proc/iomem's indentation; the init's own lines carry no time", () => {
    const lines = normaliseConsole(fixture(SEABIOS_61));
    expect(lines.some((line) => line.text === 'rcu: \tRCU restricting CPUs from NR_CPUS=8192 to nr_cpu_ids=8.')).toBe(true);
    const kernelCode = lines.find((line) => line.text.endsWith(' : Kernel code'));
    expect(kernelCode?.text).toMatch(/^ {2}[0-9a-f]+-[0-9a-f]+ : Kernel code$/);
    expect(kernelCode?.time).toBeUndefined();
  });

  it.each(captures())('%s: a timestamp-free copy (minimal-kernel shape) parses to the same data', (name) => {
    const raw = fixture(name);
    const untimed = normaliseConsole(withoutTimestamps(raw));
    expect(untimed.map((line) => line.text)).toEqual(normaliseConsole(raw).map((line) => line.text));
    expect(untimed.every((line) => line.time === undefined)).toBe(true);
    const data = (text: string) => {
      const { lines: _lines, guest, ...rest } = parseSerialLog(text);
      // Without timestamps kernel messages inside a section cannot be told from the probe's
      // lines; the parsers drop them as stray, so compare the parsed sections, not the raw ones.
      return toJson({ ...rest, guest: { ...guest, sections: undefined, stray: undefined } });
    };
    expect(data(withoutTimestamps(raw))).toBe(data(raw));
  });
});

describe('ANSI and control characters', () => {
  it("strips OVMF's real screen-control sequences in front of the EFI stub's line", () => {
    const raw = fixture(OVMF_61);
    expect(raw.startsWith('\u001b[2J\u001b[001;001H\u001b[=3h')).toBe(true);
    const lines = normaliseConsole(raw);
    expect(lines[0]).toEqual({ text: 'EFI stub: Loaded initrd from LINUX_EFI_INITRD_MEDIA_GUID device path', rawLine: 1 });
    expect(lines[1]?.text).toMatch(/^Linux version 6\.1\.0-50-amd64 /);
  });

  it('drops NUL, BEL and a lone ESC put into a real line (transformation)', () => {
    const real = realLine(/^\[ {4}0\.000000\] BIOS-e820: \[mem 0x0000000100000000-0x000000047fffffff\] usable$/);
    const noisy = `\u0000\u0007${real.replace('usable', 'usa\u001bble')}\u0000`;
    expect(normaliseConsole(`${noisy}\r\n`)).toEqual([{ text: real.slice('[    0.000000] '.length), time: 0, rawLine: 1 }]);
  });

  it('cleanText strips SGR colour sequences, CR and trailing blanks', () => {
    expect(cleanText('\u001b[1;32mBIOS-e820:\u001b[0m x  \r')).toBe('BIOS-e820: x');
  });

  it('a lone CR starts a new line, as a terminal would show it', () => {
    const real = realLine(/^\[ {4}0\.000000\] BIOS-provided physical RAM map:$/);
    expect(normaliseConsole(`${real}\r${real}\r\n`).map((line) => line.rawLine)).toEqual([1, 1]);
  });
});

describe('re-joining e820 lines the console split', () => {
  // The seed's mail shows every BIOS-e820 line broken after `] `, the type word
  // alone on the next line without a timestamp. Applied here to real lines.
  const splitLikeSeed = (raw: string): string => raw.replace(/^(\[\s*\d+\.\d+\] \w[\w -]*: \[mem \S+\]) +(\S.*)$/gm, '$1 \r\n$2');
  const row61 = realLine(/^\[ {4}0\.000000\] BIOS-e820: \[mem 0x0000000100000000-0x000000047fffffff\] usable$/);
  const row72 = realLine(/^\[ {4}0\.000000\] BIOS-e820: \[mem 0x0000000100000000-0x000000047fffffff\] {2}System RAM$/);

  it('joins a real 6.1 line split the way the seed shows', () => {
    const split = splitLikeSeed(`${row61}\r\n`);
    expect(split).toBe('[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000047fffffff] \r\nusable\r\n');
    expect(normaliseConsole(split)).toEqual([{ text: 'BIOS-e820: [mem 0x0000000100000000-0x000000047fffffff] usable', time: 0, rawLine: 1 }]);
  });

  it('joins a real 7.2 line (two blanks before `System RAM`) split the same way', () => {
    expect(normaliseConsole(splitLikeSeed(row72))[0]?.text).toBe('BIOS-e820: [mem 0x0000000100000000-0x000000047fffffff] System RAM');
  });

  it.each(captures())('%s: splitting every row gives the same e820 tables', (name) => {
    const raw = fixture(name);
    const tables = (text: string) => toJson(parseSerialLog(text).e820Tables);
    expect(splitLikeSeed(raw)).not.toBe(raw);
    // Rows keep their start line; only the continuation lines shift the rest.
    const strip = (json: string) => json.replace(/"rawLine": \d+/g, '');
    expect(strip(tables(splitLikeSeed(raw)))).toBe(strip(tables(raw)));
  });

  it('joins nothing else: a row head followed by an ordinary line stays as it is, and is reported', () => {
    const head = row61.replace(/ usable$/, '');
    const next = realLine(/^\[ {4}0\.000000\] NX \(Execute Disable\) protection: active$/);
    const text = `${head}\r\n${next}\r\n`;
    expect(normaliseConsole(text).map((line) => line.text)).toEqual([
      'BIOS-e820: [mem 0x0000000100000000-0x000000047fffffff]',
      'NX (Execute Disable) protection: active',
    ]);
    expect(parseSerialLog(text).warnings).toEqual([
      "raw line 1: unknown e820 type text '': 'BIOS-e820: [mem 0x0000000100000000-0x000000047fffffff]'",
    ]);
  });
});
