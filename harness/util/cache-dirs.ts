import { homedir } from 'node:os';
import { join } from 'node:path';

/** Root of every cache the harness keeps: $XDG_CACHE_HOME/memmap-harness, default ~/.cache/memmap-harness. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.length > 0 ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'memmap-harness');
}

/** A named area of the cache, e.g. `cacheArea('qemu')`. */
export function cacheArea(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), name);
}
