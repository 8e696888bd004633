import { allCaseNames, executeMatrix, unavailableFor } from '../../matrix/execute.ts';
import { acceleratorChoiceOf, decideAccelerator, type AcceleratorChoice } from '../../util/accel.ts';
import { parseFilter, planMatrix, type PlannedCell } from '../../matrix/expand.ts';
import { loadMatrix } from '../../matrix/load.ts';
import { UsageError } from '../../util/errors.ts';
import { defineCommand } from '../command.ts';
import { emitJson, emitReportJson, type JsonTarget } from '../json-output.ts';
import { ACCEL_OPTION, asUsageError, jobsField, jsonField, JOBS_OPTION, parseCommandLine, resultsDirOf, RESULTS_OPTION } from '../options.ts';

const usage = `usage: memmap-harness matrix [--filter EXPR]... [--subset NAME] [--jobs N] [--list]
                             [--accel tcg|kvm|auto] [--json [FILE.json]] [--source SPEC] [--results DIR]

Runs the regression matrix of cases/matrix/matrix.json: every cell (a revision,
machine, firmware, kernel, backend, transport, interface and accelerator) × the cases it runs. Builds
each QEMU revision once, fetches the images, then boots the runs in parallel
and writes the reports (report.json, junit.xml, summary.md, svg/,
matrix-summary.md, matrix-rows.json) for the whole matrix.

  --filter EXPR   keep cells where AXIS has one of the values: AXIS=VALUE[,VALUE…]
                  AXIS: revision, machine, firmware, kernel, backend, transport,
                  interface (memmap-type, sp-mem), accel (tcg, kvm), or case (keeps those cases). Repeatable; filters AND together.
                  e.g. --filter firmware=ovmf-sid,ovmf-trixie --filter revision=v6
  --subset NAME   only a named subset of the matrix (default, test)
  --jobs N        guests at once (default: decided from cores and free memory; printed)
  --accel A       which accel cells run: tcg (default, or $MEMMAP_HARNESS_ACCEL) the tcg cells, kvm the
                  kvm cells (exit 3 at once without a usable /dev/kvm), auto both, kvm cells only where
                  /dev/kvm opens read-write; cells left out are listed with the reason, never counted.
                  A kvm cell's verdict says 'expectation unverified under KVM' until a KVM runner verifies it
  --list          print the cells and their cases instead of running them
  --json [FILE]   JSON on stdout (human lines then go to stderr) or to FILE: the run's
                  report.json, or with --list the cells [{name, revision, …, cases}]
  --source SPEC   QEMU source for every build (default Debian's 10.2.2; see build --help);
                  a revision with its own source (upstream-11.1: Debian's 11.1.3 binary) keeps it
  --results DIR   where logs and reports go (default results/<timestamp>)
  -h, --help      show this help

Each cell is named revision.machine.firmware.kernel.backend.transport[.interface][.accel],
e.g. v5.q35.ovmf-sid.bookworm-6.1.memfd.unix (memmap-type, the default, is left
out) or upstream-11.1.q35.ovmf-sid.minimal-6.1.memfd.unix.sp-mem, where a case
runs in its -device sp-mem form; the accelerator only when it is kvm (….unix.kvm);
'memmap-harness cell NAME' runs one.
Exit status: 0 every run as the matrix expects, 1 a run failed or a firmware or
kernel changed behaviour (CHANGED), 3 a run broke and none failed, 2 usage error.`;

export const matrixCommand = defineCommand({
  name: 'matrix',
  summary: 'run the regression matrix (cells × cases) in parallel; write the reports',
  usage,
  parse: parseMatrixArgs,
  async act(options) {
    const def = await loadMatrix();
    const filters = options.filters.map((f) => asUsageError(() => parseFilter(f, def)));
    // --accel kvm without a usable /dev/kvm: one line before anything is built or started.
    if (options.accel === 'kvm') decideAccelerator('kvm');
    const plan = planMatrix(def, { allCases: await allCaseNames(), unavailable: unavailableFor(options.accel), subset: options.subset, filters });
    if (options.list) {
      // Cells left out (a kvm cell without /dev/kvm, an unknown image) are named, never silently dropped.
      for (const u of plan.unavailable) (options.json ? console.error : console.log)(`not run here: ${u.name}: ${u.reason}`);
      await printList(plan.cells, options.json);
      return 0;
    }
    if (plan.cells.length === 0) throw new UsageError('no cell matches', "see 'memmap-harness matrix --list'");
    const title = `memmap-harness matrix${options.subset ? ` (subset ${options.subset})` : ''}${options.filters.length ? ` [${options.filters.join(' ')}]` : ''}`;
    const status = await executeMatrix({ def, cells: plan.cells, unavailable: plan.unavailable, jobs: options.jobs, results: options.results, source: options.source, title });
    await emitReportJson(options.json, options.results);
    return status;
  },
});

interface MatrixArgs {
  filters: string[];
  subset?: string;
  jobs?: number;
  list: boolean;
  /** Which accelerator's cells run (--accel or MEMMAP_HARNESS_ACCEL). */
  accel: AcceleratorChoice;
  json?: JsonTarget;
  source?: string;
  results: string;
}

function parseMatrixArgs(argv: string[]): MatrixArgs {
  const { values, json } = parseCommandLine('matrix', argv, {
    filter: { type: 'string', multiple: true },
    subset: { type: 'string' },
    ...JOBS_OPTION,
    list: { type: 'boolean' },
    ...ACCEL_OPTION,
    source: { type: 'string' },
    ...RESULTS_OPTION,
  }, false);
  return {
    filters: values.filter ?? [],
    subset: values.subset,
    ...jobsField(values.jobs),
    list: values.list === true,
    accel: acceleratorChoiceOf(values.accel),
    ...jsonField(json),
    source: values.source,
    results: resultsDirOf(values.results),
  };
}

async function printList(cells: readonly PlannedCell[], json: JsonTarget | undefined): Promise<void> {
  if (json) {
    await emitJson(json, cells.map((c) => ({ name: c.name, ...c.cell, cases: c.cases })));
    return;
  }
  for (const c of cells) console.log(`${c.name}  ${c.cases.join(' ')}`);
  console.log(`${cells.length} cells, ${cells.reduce((n, c) => n + c.cases.length, 0)} runs`);
}
