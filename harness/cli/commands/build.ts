import { ensureQemuFromSource } from '../../qemu-build/any-source.ts';
import { DEFAULT_SERIES_DIR } from '../../qemu-build/config.ts';
import { buildNotes } from '../../qemu-build/notes.ts';
import { DEFAULT_SOURCE_SPEC } from '../../source/spec.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { emitJson, type JsonTarget } from '../json-output.ts';
import { BUILD_OPTIONS, jsonField, parseCommandLine } from '../options.ts';

const usage = `usage: memmap-harness build [--source SPEC] [--patches DIR|MBOX | --no-patches] [--json [FILE.json]]

Builds qemu-system-x86_64 (x86_64 softmmu, TCG, pc/q35 only) from SPEC with a
patch series applied, or returns the cached build, and prints the binary's path.

  --source SPEC     debian:PACKAGE=VERSION | git:URL#REF | URL.git#REF | dir:PATH | PATH
                    (default ${DEFAULT_SOURCE_SPEC}), or a prebuilt QEMU from Debian's
                    binary packages: debian-bin:PACKAGE[=VERSION][@SUITE], unpacked with
                    its suite's libraries (no patches), e.g. debian-bin:qemu-system-x86@sid
  --patches PATH    directory of *.patch files (name order) or an mbox file
                    (default ${DEFAULT_SERIES_DIR})
  --no-patches      build the unpatched baseline
  --json [FILE]     the build manifest and cacheHit as JSON (stdout, or FILE)
  -h, --help        show this help

A patch that does not apply exactly is applied with offsets and fuzz (up to 2
context lines) when all its hunks still fit; every moved or fuzzed hunk is
named on stderr and in the manifest ("applied"), and a hunk that does not fit
fails the build naming the file and hunk. A series' base-commit: trailer is
checked against a git source ("base" in the manifest).

Builds are cached by (source content, series content, configure args, device config).`;

export const buildCommand = defineCommand({
  name: 'build',
  summary: 'build (or fetch from cache) QEMU with or without the memmap-type series',
  usage,
  parse: parseBuildArgs,
  async act(options) {
    const { manifest, cacheHit } = await ensureQemuFromSource(options);
    // On stderr, every time (cached or not), so `$(memmap-harness build)` stays the path and nobody misses a fuzzed hunk.
    if ('applied' in manifest || 'base' in manifest) for (const line of buildNotes(manifest)) console.error(`memmap-harness: ${line}`);
    if (options.json) await emitJson(options.json, { ...manifest, cacheHit });
    else console.log(manifest.binary);
    return 0;
  },
});

function parseBuildArgs(argv: string[]): { source?: string; patches?: string | null; json?: JsonTarget } {
  const { values, json } = parseCommandLine('build', argv, BUILD_OPTIONS, false);
  if (values.patches !== undefined && values['no-patches']) throw new UsageError('--patches and --no-patches exclude each other', 'give one of them');
  return {
    source: values.source,
    patches: values['no-patches'] ? null : values.patches,
    ...jsonField(json),
  };
}
