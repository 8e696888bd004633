import { allCaseNames } from '../../matrix/execute.ts';
import { verdictsToJson } from '../../report/json.ts';
import { executeRun } from '../../run/execute.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { jsonEmitter } from '../json-output.ts';
import { parseRunArgs, type RunArgs } from '../options.ts';

const usage = `usage: memmap-harness run [--case NAME]... [--set NAME] [QEMU] [--firmware ID] [--kernel ID]
                          [--transport unix|websocket] [--accel tcg|kvm|auto] [--jobs N]
                          [--json [FILE.json]] [--results DIR]

Boots each case's guest, queries QMP, parses the serial log and prints a verdict
per case: pass, fail (with a row diff), error, or unsupported (QEMU lacks memmap-type,
or -device sp-mem for an sp-mem case).

  --case NAME        a case from cases/ (repeatable); default: the 'default' set
  --set NAME         a set from cases/sets/ (default: default)
  QEMU, one of:
    --qemu PATH      an existing qemu-system-x86_64 (default: $MEMMAP_HARNESS_QEMU when set
                     and none of --source/--patches/--no-patches is given)
    --source SPEC    build from debian:PKG=VER, git:URL#REF or a local tree (default Debian's 10.2.2),
                     or Debian's prebuilt QEMU: debian-bin:PKG[=VER][@SUITE] (no patches)
    --patches DIR    series to apply (directory of .patch files or an mbox; default patches/memmap-type/v5)
    --no-patches     the unpatched baseline
  --firmware ID      run on this firmware instead of each case's own (ovmf-sid, seabios-bookworm, qboot, …);
                     default: the set's firmware if it names one (the default set: qboot), else each case's own
  --kernel ID        run on this kernel instead of each case's own (bookworm-6.1, trixie-6.12, sid-7.2)
  --transport T      QMP over a UNIX socket (default) or WebSocket (on a UNIX socket too)
  --accel A          tcg (default, or $MEMMAP_HARNESS_ACCEL), kvm (a usable /dev/kvm or exit 3 before
                     any QEMU starts) or auto (kvm when /dev/kvm opens read-write, else tcg; printed
                     with the reason). KVM verdicts are never 'pass' until the KVM model is verified
  --jobs N           guests at once (default: one per core, as many as free memory holds; printed);
                     verdicts are printed in case order either way
  --profile ID       revision the QEMU implements (v5, v6, baseline, upstream-11.1: harness/traits/traits.json);
                     default: implied by a build, or probed from the binary (printed with the reason)
  --json [FILE]      the JSON report (as report.json) on stdout (verdicts then go to stderr) or to FILE
  --results DIR      where serial logs and reports go (default results/<timestamp>)
  -h, --help         show this help

Exit status: 0 all passed, 1 a case failed, 3 a run broke (QEMU would not start, guest hung)
and none failed, 4 some cases unsupported and none failed or broke; 2 usage error.`;

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run cases against a QEMU and print verdicts',
  usage,
  parse: async (args) => checkRunNames(parseRunArgs(args)),
  async act(options) {
    return executeRun(options, jsonEmitter(options.json, verdictsToJson));
  },
});

/** A case name that does not exist is a usage error (2), found before anything is built. */
async function checkRunNames(options: RunArgs): Promise<RunArgs> {
  const known = await allCaseNames();
  const unknown = options.cases.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UsageError(`run: no case named ${unknown.join(', ')}`, `cases: ${known.join(', ')}`);
  return options;
}
