/** A case verdict's status (core/vocabulary.ts's Status; util/ imports nothing else in the harness). */
type Status = 'pass' | 'fail' | 'error' | 'unsupported';

/**
 * The exit statuses of every `memmap-harness` command, one meaning each
 * (documented in `--help` and the README). A signal gives 128 + its number.
 */
export const EXIT = {
  /** Everything as expected. */
  ok: 0,
  /** A case (or matrix row) failed: the QEMU under test did not do what the case expects. */
  failed: 1,
  /** The command line cannot be run as given. */
  usage: 2,
  /** The harness could not get a result: QEMU would not start, an image is missing, a build failed. */
  infrastructure: 3,
  /** Nothing failed and nothing broke, but some cases could not apply (QEMU lacks the interface). */
  unsupported: 4,
} as const;

/** The `--help` / README paragraph that lists the exit statuses. */
export const EXIT_STATUS_HELP = [
  'exit status:',
  '  0  every case as expected',
  '  1  a case failed (or a matrix row changed behaviour)',
  '  2  usage error (bad option or argument)',
  '  3  infrastructure error: QEMU would not start, an image is missing, a build failed',
  '  4  nothing failed, but some cases were unsupported by the QEMU under test',
  '  128+N  interrupted by signal N',
].join('\n');

/**
 * One status for a set of case statuses: a failure outranks a broken run
 * (it is a result), a broken run outranks unsupported cases.
 */
export function exitForStatuses(statuses: readonly Status[]): number {
  if (statuses.includes('fail')) return EXIT.failed;
  if (statuses.includes('error')) return EXIT.infrastructure;
  if (statuses.includes('unsupported')) return EXIT.unsupported;
  return EXIT.ok;
}
