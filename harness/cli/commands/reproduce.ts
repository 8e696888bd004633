import { resolve } from 'node:path';
import { executeReproduce, type ReproduceOptions } from '../../run/rerun.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { jsonEmitter, type JsonTarget } from '../json-output.ts';
import { jsonField, parseCommandLine, resultsDirOf, RESULTS_OPTION } from '../options.ts';

const usage = `usage: memmap-harness reproduce REPORT.json [CASE|CASE@CELL] [--qemu PATH] [--results DIR]
                                [--json [FILE.json]]

Runs one case run of a report.json again from what the report recorded alone:
the case data as it ran, the QEMU (found by its build key in this machine's
cache, or --qemu; never the binary path the report records), the firmware and
kernel (the same ids; their package versions and sha256 are compared with the
report's), the machine, backend, QMP transport and revision profile. Then
compares the verdicts. A report may come from anyone: every field is checked
first (the case data like a case file); a bad one is exit 2 naming it.

  CASE            the case name, or CASE@CELL when the report ran it in several
                  cells (as the serial log names: seed-spm@v5.q35.ovmf-sid.minimal-6.1);
                  may be left out when the report holds one run
  --qemu PATH     run this binary instead of the recorded one (default $MEMMAP_HARNESS_QEMU)
  --results DIR   where the new serial log and reports go (default results/<timestamp>)
  --json [FILE]   the comparison as JSON on stdout (human lines then go to stderr) or to FILE

Exit status: 0 the same verdict (status and every check), 1 a different verdict,
3 the run could not be made (QEMU or an image missing, QEMU would not start), 2 usage error.`;

export const reproduceCommand = defineCommand({
  name: 'reproduce',
  summary: "re-run one case run of a report.json from the report alone and compare verdicts",
  usage,
  parse: parseReproduceArgs,
  async act(options) {
    return executeReproduce(options, jsonEmitter(options.json));
  },
});

/** The parsed options of `reproduce`: what it reproduces, and where its JSON goes. */
interface ReproduceArgs extends ReproduceOptions {
  json?: JsonTarget;
}

function parseReproduceArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ReproduceArgs {
  const { values, positionals, json } = parseCommandLine('reproduce', argv, { qemu: { type: 'string' }, ...RESULTS_OPTION }, true);
  const [report, selector, ...extra] = positionals;
  if (!report || extra.length > 0) throw new UsageError('reproduce: give REPORT.json and at most one CASE', "run 'memmap-harness reproduce --help'");
  const qemu = values.qemu ?? (env.MEMMAP_HARNESS_QEMU || undefined);
  return {
    report: resolve(report),
    ...(selector ? { selector } : {}),
    ...(qemu ? { qemu: resolve(qemu) } : {}),
    results: resultsDirOf(values.results),
    ...jsonField(json),
  };
}
