import { resolve } from 'node:path';
import { memmapVerdict } from '../../interface/memmap-support.ts';
import type { InterfaceReport } from '../../interface/classify.ts';
import { cachedInterfaces } from '../../interface/detect.ts';
import { resolveQemu, type QemuChoice } from '../../run/resolve-qemu.ts';
import { UsageError } from '../../util/errors.ts';
import { EXIT } from '../../util/exit-codes.ts';
import { defineCommand } from '../command.ts';
import { emitJson, type JsonTarget } from '../json-output.ts';
import { jsonField, parseCommandLine, QEMU_OPTIONS } from '../options.ts';

const usage = `usage: memmap-harness probe (--qemu PATH | --source SPEC [--patches DIR|MBOX | --no-patches]) [--json [FILE.json]]

Tells which memory interface a qemu-system-x86_64 implements, with the evidence:
no memmap-type; memmap-type without the memdev requirement (v5-like); memmap-type
requiring memdev (v6-like); -device sp-mem (QEMU >= 11.1); or a combination, and
the revision profile (harness/traits/traits.json) that behaviour matches.
Only harmless probes, each with a timeout: --version, -device help,
-device sp-mem,help, QMP query-qmp-schema on -M none, and paused q35 starts
that quit over QMP at once (firmware from /usr/share/seabios and /usr/share/qemu,
or the entry's own for a debian-bin: source).

  --qemu PATH     the binary to probe (default: $MEMMAP_HARNESS_QEMU when no --source is given)
  --source SPEC   build (or take from the cache) and probe: as for 'build --source',
                  including debian-bin:PACKAGE[=VERSION][@SUITE]
  --patches PATH  with --source: the series (default patches/memmap-type/v5)
  --no-patches    with --source: the unpatched baseline
  --json [FILE]   as JSON on stdout or to FILE: {qemu, qemuVersion, interfaces, summary, profile, profileReason,
                  evidence: [{probe, observed}], supported, verdict, detail}
  -h, --help      show this help

Exit status (about memmap-type): 0 supported, 4 not supported (unsupported),
3 undetermined (QEMU failed for another reason), 2 usage error.`;

export const probeCommand = defineCommand({
  name: 'probe',
  summary: 'tell which memory interface a QEMU implements (memmap-type v5/v6-like, sp-mem)',
  usage,
  parse: parseProbeArgs,
  async act({ choice, json }) {
    const qemu = await resolveQemu(choice);
    const report = await cachedInterfaces(qemu.binary, qemu.firmwareDirs);
    const memmap = memmapVerdict(report);
    if (json) await emitJson(json, { ...report, supported: memmap.supported, verdict: memmap.verdict, detail: memmap.detail });
    else console.log(formatReport(report));
    return memmap.verdict === 'supported' ? EXIT.ok : memmap.verdict === 'not-supported' ? EXIT.unsupported : EXIT.infrastructure;
  },
});

/** The text form: the classes, the profile with its reason, one line of evidence per probe. */
export function formatReport(report: InterfaceReport): string {
  const width = Math.max(...report.evidence.map((e) => e.probe.length));
  return [
    `${report.qemu}${report.qemuVersion ? ` [QEMU ${report.qemuVersion}]` : ''}`,
    `  interfaces: ${report.summary}`,
    `  profile:    ${report.profile ?? 'none'} (${report.profileReason})`,
    '  evidence:',
    ...report.evidence.map((e) => `    ${e.probe.padEnd(width)}  ${e.observed}`),
  ].join('\n');
}

function parseProbeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { choice: QemuChoice; json?: JsonTarget } {
  const { values, json: target } = parseCommandLine('probe', argv, QEMU_OPTIONS, false);
  const json = jsonField(target);
  if (values.qemu !== undefined) {
    if (values.source !== undefined || values.patches !== undefined || values['no-patches']) {
      throw new UsageError('probe: --qemu names a binary; it cannot be combined with --source, --patches or --no-patches');
    }
    return { choice: { binary: values.qemu }, ...json };
  }
  if (values.source === undefined && values.patches === undefined && !values['no-patches']) {
    if (env.MEMMAP_HARNESS_QEMU) return { choice: { binary: env.MEMMAP_HARNESS_QEMU }, ...json };
    throw new UsageError('probe: give --qemu PATH (or set MEMMAP_HARNESS_QEMU) or --source SPEC', "run 'memmap-harness probe --help'");
  }
  if (values.patches !== undefined && values['no-patches']) throw new UsageError('probe: give --patches or --no-patches, not both');
  const patches = values['no-patches'] ? null : values.patches === undefined ? undefined : resolve(values.patches);
  return { choice: { ...(values.source === undefined ? {} : { source: values.source }), ...(patches === undefined ? {} : { patches }) }, ...json };
}
