// Guest images: Debian kernels and our minimal ones, the probe initramfs and firmware, cached by exact version.
export { ensureKernel, isKernelId, DEBIAN_KERNEL_IDS, KERNEL_IDS, KERNELS, type DebianKernelId, type KernelId, type KernelManifest, type KernelModule } from './kernel.ts';
export { ensureMinimalKernel, isMinimalKernelId, KernelConfigError, MINIMAL_KERNEL_IDS, MINIMAL_KERNELS, type EnsureMinimalKernelOptions, type MinimalKernelBuild, type MinimalKernelId, type MinimalKernelManifest } from './minimal-kernel.ts';
export { applyFragment, checkKernelConfig, describeMismatches, parseKernelConfig, type ConfigMismatch, type KernelConfig } from './kernel-config.ts';
export { ensureFirmware, firmwareArgs, isFirmwareId, FIRMWARE_IDS, FIRMWARES, OPTION_ROM_DIR, type FirmwareId, type FirmwareManifest, type OvmfManifest, type BiosManifest, type FirmwareKind } from './firmware.ts';
export { ensureInitramfs, PROBE_INIT, BUSYBOX, type InitramfsManifest } from './initramfs.ts';
export { ensureProbeHelper, DAX_USE_SOURCE, ProbeHelperBuildError, type ProbeHelperManifest } from './dax-helper.ts';
export { ensureImage, imageName, parseImageName, type GuestImage, type ImageManifest } from './image.ts';
export { bootProbe, probeArgs, PROBE_DONE, SEED_TWO_NODES, type ProbeBootOptions, type ProbeBootResult } from './boot.ts';
export { listCpioGz } from './cpio.ts';
export type { PackageRef } from '../host/deb.ts';
