import { allCaseNames, executeMatrix, leftOutByAccel, unavailableHere } from '../../matrix/execute.ts';
import { acceleratorChoiceOf, type AcceleratorChoice } from '../../util/accel.ts';
import { planOneCell } from '../../matrix/expand.ts';
import { loadMatrix } from '../../matrix/load.ts';
import { AXES } from '../../matrix/types.ts';
import { HarnessError, UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { emitReportJson, type JsonTarget } from '../json-output.ts';
import { ACCEL_OPTION, asUsageError, CASE_OPTION, jobsField, jsonField, JOBS_OPTION, parseCommandLine, resultsDirOf, RESULTS_OPTION } from '../options.ts';

const usage = `usage: memmap-harness cell NAME [--case NAME]... [--jobs N] [--source SPEC] [--results DIR]
                           [--accel tcg|kvm|auto] [--json [FILE.json]]

Runs one matrix cell by its name, exactly as the GitHub workflow's job of that
name does: the same QEMU revision, machine, firmware, kernel, backend and QMP
transport, the same cases and the same expectations. Copy the name of a red
job and paste it here.

  NAME            revision.machine.firmware.kernel.backend.transport[.interface][.accel],
                  e.g. v5.q35.ovmf-sid.bookworm-6.1.memfd.unix (tcg) or ….memfd.unix.kvm
                  (a kvm cell needs a /dev/kvm that opens read-write: exit 3 at once without one)
  --case NAME     only this case (repeatable); default the cases the matrix gives the cell
  --jobs N        guests at once (default: decided from cores and free memory)
  --source SPEC   QEMU source (the workflow uses the upstream git tag; default Debian's 10.2.2)
  --results DIR   where logs and reports go (default results/<timestamp>)
  --accel A       tcg, kvm or auto (default tcg, or $MEMMAP_HARNESS_ACCEL): the name decides the
                  accelerator; a tcg or kvm choice that contradicts it is a usage error
  --json [FILE]   the run's report.json on stdout (human lines then go to stderr) or to FILE
  -h, --help      show this help`;

export const cellCommand = defineCommand({
  name: 'cell',
  summary: 'run one matrix cell by its name (as CI names it)',
  usage,
  parse: parseCellArgs,
  async act(options) {
    const def = await loadMatrix();
    const all = await allCaseNames();
    const planned = asUsageError(() => planOneCell(def, options.name, all));
    const unknown = options.cases.filter((c) => !all.includes(c));
    if (unknown.length > 0) throw new UsageError(`cell: no case named ${unknown.join(', ')}`, `cases: ${all.join(', ')}`);
    const cases = options.cases.length > 0 ? options.cases : planned.cases;
    if (!planned.inMatrix) console.log(`note: ${planned.name} is not a cell of cases/matrix/matrix.json; running it with the expectations the matrix derives for it`);
    const contradicts = leftOutByAccel(options.accel, 'accel', planned.cell.accel);
    if (contradicts && options.accelGiven) throw new UsageError(`cell ${planned.name}: ${contradicts}`, 'drop --accel (the name decides) or name the other cell');
    const reason = AXES.map((axis) => unavailableHere(axis, planned.cell[axis])).find((r) => r !== undefined);
    if (reason) throw new HarnessError(`cell ${planned.name}: ${reason}`);
    const status = await executeMatrix({ def, cells: [{ ...planned, cases }], unavailable: [], jobs: options.jobs, results: options.results, source: options.source, title: `memmap-harness cell ${planned.name}` });
    await emitReportJson(options.json, options.results);
    return status;
  },
});

interface CellArgs {
  name: string;
  cases: string[];
  jobs?: number;
  source?: string;
  results: string;
  json?: JsonTarget;
  accel: AcceleratorChoice;
  /** Whether --accel or MEMMAP_HARNESS_ACCEL was given at all (the default never contradicts a name). */
  accelGiven: boolean;
}

function parseCellArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CellArgs {
  const { values, positionals, json } = parseCommandLine('cell', argv, { ...CASE_OPTION, ...JOBS_OPTION, source: { type: 'string' }, ...RESULTS_OPTION, ...ACCEL_OPTION }, true);
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new UsageError('cell: give exactly one cell name', 'e.g. memmap-harness cell v5.q35.ovmf-sid.bookworm-6.1.memfd.unix');
  return {
    name,
    cases: values.case ?? [],
    ...jobsField(values.jobs),
    source: values.source,
    results: resultsDirOf(values.results),
    ...jsonField(json),
    accel: acceleratorChoiceOf(values.accel, env),
    accelGiven: values.accel !== undefined || Boolean(env.MEMMAP_HARNESS_ACCEL),
  };
}
