import { cpus, freemem, loadavg } from 'node:os';
import type { CaseSpec } from '../case/types.ts';
import { parseSize } from '../util/size.ts';
const GIB = 1n << 30n;

/** What the parallelism decision is based on. */
export interface JobsInput {
  cpus: number;
  freeBytes: bigint;
  /** The largest guest RAM among the runs. */
  guestBytes: bigint;
  runs: number;
  /** --jobs, when given. */
  requested?: number;
  /** 1-minute load average, shown only. */
  load?: number;
}

export interface JobsDecision {
  jobs: number;
  why: string;
}

/** Host memory kept free for everything else on the machine (other builds, the harness itself). */
export const HOST_RESERVE = 2n * GIB;

/**
 * Host memory one guest is budgeted: its RAM is mostly never touched (peak
 * QEMU RSS measured 0.45-0.7 GiB for 16 GiB guests, kmem onlining 8 GiB
 * included), but count 2 GiB, or the guest's RAM if smaller.
 */
export function perGuestBudget(guestBytes: bigint): bigint {
  return guestBytes < 2n * GIB ? guestBytes : 2n * GIB;
}

/**
 * How many guests run at once: at most one per core (a TCG guest runs a host
 * thread per vCPU; more guests than cores only time-slice and stretch every
 * boot toward its timeout) and as many as free memory holds at the per-guest
 * budget; never more than there are runs. An explicit --jobs wins, with a
 * warning when it exceeds either limit.
 */
export function decideJobs(input: JobsInput): JobsDecision {
  const budget = perGuestBudget(input.guestBytes);
  const byCpu = Math.max(1, input.cpus);
  const spare = input.freeBytes > HOST_RESERVE ? input.freeBytes - HOST_RESERVE : 0n;
  const byMemory = Math.max(1, Number(spare / (budget > 0n ? budget : 1n)));
  const limits = `${input.cpus} core(s) → at most ${byCpu} (a TCG guest keeps one core busy: its vCPUs share one thread); ${gib(input.freeBytes)} free − ${gib(HOST_RESERVE)} reserve at ${gib(budget)} per guest → at most ${byMemory}`;
  const load = input.load === undefined ? '' : `; load average ${input.load.toFixed(1)}`;
  if (input.requested !== undefined) {
    const over = input.requested > Math.min(byCpu, byMemory) ? ' (above the limits: expect slower boots and timeouts)' : '';
    return { jobs: input.requested, why: `--jobs ${input.requested}${over}; limits: ${limits}${load}` };
  }
  const jobs = Math.max(1, Math.min(byCpu, byMemory, Math.max(1, input.runs)));
  return { jobs, why: `${limits}; ${input.runs} run(s)${load}` };
}

/** Bytes as GiB with one decimal: "21.3 GiB". */
function gib(bytes: bigint): string {
  return `${(Number(bytes) / 2 ** 30).toFixed(1)} GiB`;
}

/** decideJobs on this host (its cores, free memory and load) for `runs` runs of `cases`, sized by the largest guest. */
export function decideJobsHere(cases: Iterable<CaseSpec>, runs: number, requested: number | undefined): JobsDecision {
  let guestBytes = 0n;
  for (const c of cases) if (parseSize(c.memory) > guestBytes) guestBytes = parseSize(c.memory);
  return decideJobs({ cpus: cpus().length, freeBytes: BigInt(freemem()), guestBytes, runs, requested, load: loadavg()[0] });
}
