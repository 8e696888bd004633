import { accessSync, constants, readFileSync } from 'node:fs';
import { arch, cpus, release } from 'node:os';

/** The machine a report was made on. */
export interface HostInfo {
  /** `uname -r`. */
  kernel: string;
  /** PRETTY_NAME from /etc/os-release, e.g. `Debian GNU/Linux 12 (bookworm)`. */
  distro: string;
  arch: string;
  cpus: number;
  node: string;
  /** Whether /dev/kvm is there to use: what a KVM cell needs. */
  kvm: boolean;
}

/** This host, as report.json records it. */
export function hostInfo(): HostInfo {
  return { kernel: release(), distro: distroName(), arch: arch(), cpus: cpus().length, node: process.version, kvm: kvmUsable() };
}

function distroName(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const line = /^PRETTY_NAME=(.*)$/m.exec(text)?.[1];
    return line === undefined ? 'unknown' : line.replace(/^"(.*)"$/, '$1');
  } catch {
    return 'unknown';
  }
}

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
