import { probeMemmapType } from '../../qemu-build/probe.ts';
import { HarnessError } from '../../util/errors.ts';
import { parseCommandArgs, type Command } from '../command.ts';

const usage = `usage: memmap-harness probe --qemu PATH [--json]

Tells whether a qemu-system-x86_64 understands -numa node,memmap-type=
(dry start on q35, quit over QMP; firmware from /usr/share/seabios and /usr/share/qemu).

  --qemu PATH   the binary to probe
  --json        print {qemu, supported, verdict, detail, qemuVersion}
  -h, --help    show this help

Exit status: 0 supported, 1 not supported, 3 undetermined (QEMU failed for another reason).`;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'tell whether a QEMU binary understands -numa memmap-type',
  usage,
  async run(args) {
    const { qemu, json } = parseProbeArgs(args);
    const result = await probeMemmapType(qemu);
    if (json) console.log(JSON.stringify(result, null, 2));
    else console.log(`${result.verdict}: ${result.detail}${result.qemuVersion ? ` [QEMU ${result.qemuVersion}]` : ''}`);
    return result.verdict === 'supported' ? 0 : result.verdict === 'not-supported' ? 1 : 3;
  },
};

function parseProbeArgs(args: string[]): { qemu: string; json: boolean } {
  const { values } = parseCommandArgs('probe', { args, allowPositionals: false, options: { qemu: { type: 'string' }, json: { type: 'boolean' } } });
  if (!values.qemu) throw new HarnessError('probe: --qemu PATH is required', "run 'memmap-harness probe --help'");
  return { qemu: values.qemu, json: values.json === true };
}
