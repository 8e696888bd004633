import { envFlag } from '../util/env-overrides.ts';
import { HarnessError } from '../util/errors.ts';
import { run } from '../util/subprocess.ts';

/**
 * A series is code from people we do not know, and its configure and ninja
 * run that code's build scripts: by default they run in a network namespace
 * of their own (util-linux `unshare -n`: only a loopback that is down), so a
 * build can reach nothing. `--allow-network` (MEMMAP_HARNESS_ALLOW_NETWORK=1)
 * turns that off. As root `unshare -n` works directly; otherwise `unshare -rn`
 * (a user namespace with our uid mapped to root) does where the kernel allows
 * unprivileged user namespaces. `unshare` execs the command in place, so its
 * pid, signals and exit status are the command's own.
 */
export const ALLOW_NETWORK_VARIABLE = 'MEMMAP_HARNESS_ALLOW_NETWORK';

/** Turns a command into the same command without network. */
export type Isolate = (file: string, args: readonly string[]) => [string, string[]];

/** configure/ninja could not be isolated from the network on this host. */
export class NoNetworkSandboxError extends HarnessError {}

const UNSHARE_CHECK_TIMEOUT_MS = 10_000;
let unshareFound: Promise<string[] | Error> | undefined;

/** How build steps are run: without network (the default) or as they are when `allowNetwork` (default: the variable). */
export async function buildIsolation(allowNetwork: boolean = envFlag(ALLOW_NETWORK_VARIABLE)): Promise<{ isolate: Isolate; note: string }> {
  if (allowNetwork) return { isolate: (file, args) => [file, [...args]], note: `network allowed for the build (${ALLOW_NETWORK_VARIABLE}=1 / --allow-network)` };
  unshareFound ??= findUnshare();
  const prefix = await unshareFound;
  if (prefix instanceof Error) throw prefix;
  return { isolate: (file, args) => ['unshare', [...prefix, '--', file, ...args]], note: `building without network (unshare ${prefix.join(' ')})` };
}

/** `unshare -n` when it works here, else `unshare -rn`; an error saying what to do when neither does. */
async function findUnshare(): Promise<string[] | Error> {
  const tried: string[] = [];
  for (const prefix of [['-n'], ['-rn']]) {
    const result = await run('unshare', [...prefix, '--', 'true'], { timeoutMs: UNSHARE_CHECK_TIMEOUT_MS }).catch((error: Error) => ({ exitCode: -1, stderr: error.message, stdout: '', all: '' }));
    if (result.exitCode === 0) return prefix;
    tried.push(`unshare ${prefix.join(' ')}: ${result.stderr.trim().split('\n').pop() || `exit ${result.exitCode}`}`);
  }
  return new NoNetworkSandboxError(
    `cannot build without network here (${tried.join('; ')})`,
    `run as root or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), or pass --allow-network (${ALLOW_NETWORK_VARIABLE}=1) to build a series you trust with network`,
  );
}
