import { launchVm, type LaunchOptions } from './launch.ts';
import type { Vm } from './vm.ts';

/** Launches a VM, runs `fn` with it, and shuts it down whatever `fn` does. */
export async function withVm<T>(options: LaunchOptions, fn: (vm: Vm) => Promise<T>): Promise<T> {
  const vm = await launchVm(options);
  try {
    return await fn(vm);
  } finally {
    await vm.shutdown();
  }
}
