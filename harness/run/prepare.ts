import type { CaseSpec } from '../case/types.ts';
import { ensureFirmware, isFirmwareId } from '../image/firmware.ts';
import { ensureInitramfs } from '../image/initramfs.ts';
import { isKernelId } from '../image/kernel.ts';
import { isMinimalKernelId, MAKE_UNIT } from '../image/minimal-kernel.ts';
import type { BuildReporter } from '../host/progress.ts';
import { progressBoard } from './progress-board.ts';
import { resolveQemu, type QemuChoice, type ResolvedQemu } from './resolve-qemu.ts';

/** The firmware or kernel a run puts in place of each case's own (--firmware, --kernel). */
export interface ImageOverrides {
  firmware?: string;
  kernel?: string;
}

/** How image preparation is stopped and where a kernel build reports to. */
export interface ImageBuildOptions {
  signal?: AbortSignal;
  reporterFor?: (kernelId: string) => BuildReporter | undefined;
}

/** One piece of image preparation: what it puts in the cache (`kernel:ID`, `firmware:ID`) and the work. */
export interface ImageTask {
  key: string;
  work: () => Promise<unknown>;
}

/** The work that puts each kernel (with its guest initramfs) and each firmware in the cache, kernels first. */
export function imageTasks(kernels: Iterable<string>, firmwares: Iterable<string>, options: ImageBuildOptions = {}): ImageTask[] {
  const kernelTasks = [...new Set(kernels)].map((kernel) => {
    const reporter = options.reporterFor?.(kernel);
    const build = { ...(options.signal ? { signal: options.signal } : {}), ...(reporter ? { reporter } : {}) };
    // The initramfs is made for its kernel, which ensureInitramfs gets (or builds) first.
    return { key: `kernel:${kernel}`, work: () => ensureInitramfs(kernel, build) };
  });
  const firmwareTasks = [...new Set(firmwares)].map((firmware) => ({ key: `firmware:${firmware}`, work: () => ensureFirmware(firmware) }));
  return [...kernelTasks, ...firmwareTasks];
}

/**
 * Each distinct kernel (with its initramfs) and firmware the cases boot, put in
 * the cache one at a time, so that guests started together never fetch or build
 * the same image twice. Unknown ids are left to runCase, which makes them the case's error.
 */
export async function prepareImages(cases: readonly CaseSpec[], overrides: ImageOverrides, options: ImageBuildOptions = {}): Promise<void> {
  const kernels = cases.map((c) => overrides.kernel ?? c.kernel).filter(isKernelId);
  const firmwares = cases.map((c) => overrides.firmware ?? c.firmware).filter(isFirmwareId);
  for (const task of imageTasks(kernels, firmwares, options)) await task.work();
}

/**
 * Everything a run needs before its first guest: the QEMU under test and every
 * guest image its cases boot. On a first run both are builds of minutes (QEMU,
 * the minimal kernel); they go side by side, their progress on one shared line,
 * so the downloads and the single-threaded steps of one overlap the compiles of
 * the other. The first failure stops the other build and is the one thrown.
 */
export async function prepareRun(choice: QemuChoice, cases: readonly CaseSpec[], overrides: ImageOverrides): Promise<ResolvedQemu> {
  const board = progressBoard();
  try {
    const [qemu] = await sideBySide(
      (signal) => resolveQemu(choice, { signal, reporter: board.reporter('QEMU') }),
      (signal) => prepareImages(cases, overrides, { signal, reporterFor: (kernel) => (isMinimalKernelId(kernel) ? board.reporter(`kernel ${kernel}`, MAKE_UNIT) : undefined) }),
    );
    return qemu;
  } finally {
    board.close();
  }
}

/**
 * Runs two pieces of work at once and waits for both. The first to fail aborts
 * the other's signal, and its error (not the other's abort) is what is thrown,
 * once both have settled: nothing of either is still running then.
 */
export async function sideBySide<A, B>(a: (signal: AbortSignal) => Promise<A>, b: (signal: AbortSignal) => Promise<B>): Promise<[A, B]> {
  const abort = new AbortController();
  let firstFailure: { error: unknown } | undefined;
  const failFast = (error: unknown): never => {
    firstFailure ??= { error };
    abort.abort();
    throw error;
  };
  const [ra, rb] = await Promise.allSettled([a(abort.signal).catch(failFast), b(abort.signal).catch(failFast)]);
  if (firstFailure) throw firstFailure.error;
  if (ra.status === 'rejected' || rb.status === 'rejected') throw new Error('unreachable: a rejection without a recorded failure');
  return [ra.value, rb.value];
}
