/**
 * The environment variables the harness reads, each beside the flag that does
 * the same (a flag wins), like QEMU's functional tests (QEMU_TEST_QEMU_BINARY…).
 * `--help` and the README print this one table.
 */
export interface EnvOverride {
  variable: string;
  flag: string;
  meaning: string;
}

/** Every environment override, in the order the help lists them. */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'MEMMAP_HARNESS_QEMU=PATH', flag: '--qemu PATH', meaning: 'the qemu-system-x86_64 to test (run, probe) instead of a build' },
  { variable: 'MEMMAP_HARNESS_KEEP_SCRATCH=1', flag: '--keep-scratch', meaning: "keep a failed or broken run's scratch directory (its path is printed)" },
  { variable: 'MEMMAP_HARNESS_TIMEOUT_FACTOR=N', flag: '--timeout-factor N', meaning: 'multiply every wait by N (slow or loaded hosts)' },
  { variable: 'MEMMAP_HARNESS_ACCEL=A', flag: '--accel A', meaning: 'tcg (default), kvm (needs a usable /dev/kvm), or auto (kvm when usable); run, matrix, cell' },
  { variable: 'MEMMAP_HARNESS_OFFLINE=1', flag: '--offline', meaning: 'never touch the network; what is not cached is an error' },
  { variable: 'MEMMAP_HARNESS_REFRESH=1', flag: '--refresh', meaning: 'fetch new Debian package lists first' },
  { variable: 'MEMMAP_HARNESS_ALLOW_NETWORK=1', flag: '--allow-network', meaning: "let a QEMU build's configure and ninja reach the network (default: unshare -n, none)" },
];

/** The table as aligned text lines. */
export function envOverrideLines(): string[] {
  const width = Math.max(...ENV_OVERRIDES.map((o) => o.variable.length));
  const flagWidth = Math.max(...ENV_OVERRIDES.map((o) => o.flag.length));
  return ENV_OVERRIDES.map((o) => `  ${o.variable.padEnd(width)}  ${o.flag.padEnd(flagWidth)}  ${o.meaning}`);
}

/** True when a boolean override is on (`1`, `yes` or `true`). */
export function envFlag(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|yes|true)$/i.test(env[name] ?? '');
}
