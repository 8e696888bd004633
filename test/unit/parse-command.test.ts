import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dir as tmpDir, type DirectoryResult } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { looksBinary } from '../../harness/cli/commands/parse.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// `memmap-harness parse` refuses what is not a serial log of a Linux boot, in
// one line and with exit 2 (bad input, like a bad argument), and still parses every real log we keep.
const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
const REAL = join(REPO_ROOT, 'test', 'fixtures', 'serial', 'bookworm-6.1-ovmf-sid-q35-two-node.log');
let work: DirectoryResult;
beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true });
});
afterAll(() => work.cleanup());

const parse = (file: string) => execa('node', [CLI, 'parse', file], { reject: false, timeout: scaledMs(60_000) });

describe('parse refuses what is not a serial log', { timeout: scaledMs(60_000) }, () => {
  it.each([
    ['an empty file', '', /is not a serial log of a Linux boot \(no 'Linux version' banner, no BIOS-e820 or SRAT lines\)/],
    ['plain text without a boot', 'hello\nworld\n', /is not a serial log of a Linux boot/],
    ['random bytes', randomBytes(4096), /is binary data, not a serial log of a Linux boot/],
  ])('%s: exit 2, one line', async (_what, content, message) => {
    const file = join(work.path, `input-${Math.random().toString(16).slice(2)}`);
    await writeFile(file, content);
    const result = await parse(file);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  });

  it('a real log (OVMF, with its escape sequences) parses', async () => {
    const result = await parse(REAL);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kernel: 6\.1\./);
    expect(result.stdout).toMatch(/^e820 /m);
  });
});

describe('looksBinary', () => {
  it('text with escape sequences is not binary; NUL bytes or many control bytes are', () => {
    expect(looksBinary(Buffer.from('\x1b[2J\x1b[01;01HBdsDxe: loading\r\n'))).toBe(false);
    expect(looksBinary(Buffer.from('Linux version 6.1\0'))).toBe(true);
    expect(looksBinary(Buffer.from('\x01\x02\x03\x04 abc'))).toBe(true);
    expect(looksBinary(Buffer.alloc(0))).toBe(false);
  });
});
