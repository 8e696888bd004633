import { resolve } from 'node:path';
import { allCaseNames, executeMatrix, unavailableHere } from '../../matrix/execute.ts';
import { parseFilter, planMatrix, type PlannedCell } from '../../matrix/expand.ts';
import { loadMatrix } from '../../matrix/load.ts';
import { newResultsDir } from '../../run/results-dir.ts';
import { HarnessError } from '../../util/errors.ts';
import { parseCommandArgs, type Command } from '../command.ts';

const usage = `usage: memmap-harness matrix [--filter EXPR]... [--subset NAME] [--jobs N] [--list [--json]]
                             [--source SPEC] [--results DIR]

Runs the regression matrix of cases/matrix/matrix.json: every cell (a revision,
machine, firmware, kernel, backend, transport and interface) × the cases it runs. Builds
each QEMU revision once, fetches the images, then boots the runs in parallel
and writes the reports (report.json, junit.xml, summary.md, svg/,
matrix-summary.md, matrix-rows.json) for the whole matrix.

  --filter EXPR   keep cells where AXIS has one of the values: AXIS=VALUE[,VALUE…]
                  AXIS: revision, machine, firmware, kernel, backend, transport,
                  interface (memmap-type, sp-mem), or case (keeps those cases). Repeatable; filters AND together.
                  e.g. --filter firmware=ovmf-sid,ovmf-trixie --filter revision=v6
  --subset NAME   only a named subset of the matrix (default, test)
  --jobs N        guests at once (default: decided from cores and free memory; printed)
  --list          print the cells and their cases instead of running them
  --json          with --list: as JSON [{name, revision, …, cases}]
  --source SPEC   QEMU source for every build (default Debian's 10.2.2; see build --help);
                  a revision with its own source (upstream-11.1: Debian's 11.1.3 binary) keeps it
  --results DIR   where logs and reports go (default results/<timestamp>)
  -h, --help      show this help

Each cell is named revision.machine.firmware.kernel.backend.transport[.interface],
e.g. v5.q35.ovmf-sid.bookworm-6.1.memfd.unix (memmap-type, the default, is left
out) or upstream-11.1.q35.ovmf-sid.minimal-6.1.memfd.unix.sp-mem, where a case
runs in its -device sp-mem form; 'memmap-harness cell NAME' runs one.
Exit status: 0 every run as the matrix expects, 1 otherwise (a behaviour change
in a firmware or kernel is reported as CHANGED).`;

export const matrixCommand: Command = {
  name: 'matrix',
  summary: 'run the regression matrix (cells × cases) in parallel; write the reports',
  usage,
  async run(args) {
    const options = parseMatrixArgs(args);
    const def = await loadMatrix();
    const filters = options.filters.map((f) => parseFilter(f, def));
    const plan = planMatrix(def, { allCases: await allCaseNames(), unavailable: unavailableHere, subset: options.subset, filters });
    if (options.list) {
      printList(plan.cells, options.json);
      return 0;
    }
    if (plan.cells.length === 0) throw new HarnessError('no cell matches', "see 'memmap-harness matrix --list'");
    const title = `memmap-harness matrix${options.subset ? ` (subset ${options.subset})` : ''}${options.filters.length ? ` [${options.filters.join(' ')}]` : ''}`;
    return executeMatrix({ def, cells: plan.cells, unavailable: plan.unavailable, jobs: options.jobs, results: options.results, source: options.source, title });
  },
};

interface MatrixArgs {
  filters: string[];
  subset?: string;
  jobs?: number;
  list: boolean;
  json: boolean;
  source?: string;
  results: string;
}

function parseMatrixArgs(args: string[]): MatrixArgs {
  const { values } = parseCommandArgs('matrix', {
    args,
    allowPositionals: false,
    options: {
      filter: { type: 'string', multiple: true },
      subset: { type: 'string' },
      jobs: { type: 'string' },
      list: { type: 'boolean' },
      json: { type: 'boolean' },
      source: { type: 'string' },
      results: { type: 'string' },
    },
  });
  if (values.json && !values.list) throw new HarnessError('matrix: --json goes with --list', 'the run itself always writes JSON reports');
  return {
    filters: values.filter ?? [],
    subset: values.subset,
    jobs: values.jobs === undefined ? undefined : parseJobs(values.jobs),
    list: values.list === true,
    json: values.json === true,
    source: values.source,
    results: resolve(values.results ?? newResultsDir()),
  };
}

/** --jobs: a positive integer. */
export function parseJobs(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new HarnessError(`--jobs must be a positive integer, not '${text}'`);
  return n;
}

function printList(cells: readonly PlannedCell[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify(cells.map((c) => ({ name: c.name, ...c.cell, cases: c.cases })), null, 2));
    return;
  }
  for (const c of cells) console.log(`${c.name}  ${c.cases.join(' ')}`);
  console.log(`${cells.length} cells, ${cells.reduce((n, c) => n + c.cases.length, 0)} runs`);
}
