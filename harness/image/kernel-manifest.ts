import type { AptSuite } from '../util/apt.ts';
import type { PackageRef } from '../host/deb.ts';

/** A module file the guest program needs, as the kernel package ships it. */
export interface KernelModule {
  name: string;
  /** Absolute path of the module file as Debian ships it (`.ko` or `.ko.xz`). */
  path: string;
}

/** A kernel unpacked into the cache; every path is absolute. */
export interface CachedKernel<Id extends string = string> {
  id: Id;
  suite: AptSuite;
  /** `uname -r`, e.g. `6.1.0-50-amd64`. */
  release: string;
  image: PackageRef;
  /** The packages actually extracted (sid splits the kernel into several). */
  packages: PackageRef[];
  vmlinuz: string;
  config: string;
  /** The guest program's modules and their dependencies, dependencies first. */
  modules: KernelModule[];
  /** Wanted modules that this kernel has built in. */
  builtin: string[];
  /** Wanted modules this kernel has neither as file nor built in. */
  absent: string[];
  /** sha256 of the files extracted from the packages (relative paths), checked on reuse; absent in older entries. */
  fileSha256?: Record<string, string>;
  dir: string;
}
