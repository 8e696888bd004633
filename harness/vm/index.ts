/** The VM runner: launch QEMU paused with QMP and a captured serial console. */
export { ConsoleTimeoutError, VmError, VmExitedError, VmStartError } from './errors.ts';
export { launchVm, type LaunchOptions } from './launch.ts';
export type { QmpTransportKind } from './qmp-endpoint.ts';
export { describeExit, type VmExit } from './qemu-process.ts';
export { killAllVmsNow, liveVmCount } from './registry.ts';
export type { LineMatch, LineWaitOptions, SerialConsole } from './serial-console.ts';
export { Vm, type ShutdownOptions } from './vm.ts';
export { withVm } from './with-vm.ts';
