import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { cellOf, runStem, unsupportedMessage } from '../../harness/report/cell.ts';
import { shortSize } from '../../harness/report/format.ts';
import { brokenScale, log2 } from '../../harness/report/scale.ts';
import { stripInvalidXml, xmlAttr, xmlText } from '../../harness/report/xml.ts';
import { e820Kind, e820Name } from '../../harness/core/vocabulary.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

describe('shortSize', () => {
  it.each([
    [0n, '0 B'],
    [1023n, '1023 B'],
    [640n << 10n, '640 KiB'],
    [2047n << 20n, '2047 MiB'],
    [8n << 30n, '8 GiB'],
    [1048320n << 10n, '1023.8 MiB'],
    [20104n << 10n, '19.6 MiB'],
    [0x7e73f000n - 0x900000n, '2014.2 MiB'],
    [0xfd00000000n - 0x480000000n, '994 GiB'],
    [1n << 64n, '16 EiB'],
  ])('%s bytes reads %s', (bytes, text) => {
    expect(shortSize(bytes)).toBe(text);
  });
});

describe('XML text', () => {
  it('drops what XML 1.0 forbids and keeps everything it allows', () => {
    expect(stripInvalidXml('a\u0000b\u001bc\u0008d\uFFFEe\uD800f\t\n\r😀\u00e9')).toBe('abcdef\t\n\r😀\u00e9');
  });

  // 200 strings, and a minute: the property holds or not whatever the machine's load.
  it('always yields a well-formed attribute and element', { timeout: scaledMs(60_000) }, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const doc = `<a v="${xmlAttr(s)}">${xmlText(s)}</a>`;
        return XMLValidator.validate(doc) === true;
      }),
      { numRuns: 200 },
    );
  });

  it('keeps newlines in attributes as references (a parser would turn a literal one into a space)', () => {
    expect(xmlAttr('a\nb\t"c\'')).toBe('a&#10;b&#9;&quot;c&apos;');
  });
});

describe('cells and file names', () => {
  const v = { name: 'seed-spm', qemu: '/opt/qemu build:v5', machine: 'q35', firmware: 'ovmf-sid', kernel: 'bookworm-6.1' };
  it('names the cell as JUnit classname and a safe file stem', () => {
    expect(cellOf(v)).toBe('/opt/qemu build:v5.q35.ovmf-sid.bookworm-6.1');
    expect(runStem(v)).toBe('seed-spm@_opt_qemu_build_v5.q35.ovmf-sid.bookworm-6.1');
  });

  it('says unsupported is not a pass, and says "patch not applied" once', () => {
    expect(unsupportedMessage({ reason: 'patch not applied: patch not applied: QEMU rejects it' })).toBe('unsupported: patch not applied (not a pass): QEMU rejects it');
    expect(unsupportedMessage({})).toBe('unsupported: patch not applied (not a pass)');
  });
});

describe('E820 kinds', () => {
  it('names each type the 6.1 way, with its number in the kind', () => {
    expect([1, 2, 0xefffffff, 20].map(e820Kind)).toEqual(['usable (type 1)', 'reserved (type 2)', 'soft reserved (type 0xEFFFFFFF)', 'type (type 20)']);
    expect(e820Name(0xefffffff)).toBe('soft reserved');
    expect(e820Name(20)).toBe('type 20');
  });
});

describe('broken scale', () => {
  const address = fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }).map((n) => n << 12n);
  const range = fc.tuple(address, fc.bigInt({ min: 1n, max: 1n << 30n })).map(([start, pages]) => ({ start, end: start + (pages << 12n) - 1n }));

  it('places every boundary, in address order, and compresses only uncovered segments', { timeout: scaledMs(60_000) }, () => {
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 12 }), (ranges) => {
        const scale = brokenScale(ranges, { minHeight: 20, perDoubling: 3, gapHeight: 26 });
        for (const r of ranges) {
          const top = scale.offsets.get(r.start);
          const bottom = scale.offsets.get(r.end + 1n);
          if (top === undefined || bottom === undefined || bottom - top < 20 - 1e-9) return false;
        }
        const sorted = [...scale.offsets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const ascending = sorted.every(([, y], i) => i === 0 || y > (sorted[i - 1]?.[1] ?? Infinity));
        const gaps = scale.segments.filter((s) => !s.covered).every((s) => Math.abs(s.bottom - s.top - 26) < 1e-9);
        return ascending && gaps;
      }),
    );
  });

  it('takes log2 of sizes beyond 2^53 without losing the exponent', () => {
    expect(log2(1n << 40n)).toBe(40);
    expect(log2((1n << 64n) - 1n)).toBeCloseTo(64, 9);
    expect(log2(3n << 60n)).toBeCloseTo(60 + Math.log2(3), 9);
  });
});
