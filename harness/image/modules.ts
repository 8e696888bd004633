import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import { toolPath } from '../util/host-tools.ts';
import { scaledMs } from '../util/timeouts.ts';

/**
 * What the guest program needs from a kernel's modules: the dax stack, hot-plugging dax
 * memory as RAM, and QEMU's fw_cfg in sysfs (etc/e820 as QEMU made it; Debian
 * builds it as a module, a kernel without it shows that layer as unavailable).
 */
export const GUEST_MODULES = ['dax', 'device_dax', 'dax_hmem', 'kmem', 'qemu_fw_cfg'] as const;

/** Which of the wanted modules a kernel has as files (in load order, dependencies first) and which built in. */
export interface ModuleClosure {
  /** Paths relative to the modules directory, e.g. `kernel/drivers/dax/kmem.ko.xz`. */
  files: string[];
  builtin: string[];
  /** Wanted modules the kernel has neither as a file nor built in (its config lacks them). */
  absent: string[];
}

const DEPMOD_TIMEOUT_MS = 5 * 60 * 1000;

/** `kmem.ko.xz` → `kmem`; module names treat '-' and '_' alike. */
export function moduleName(path: string): string {
  return basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/**
 * Debian's packages do not ship modules.dep (the postinst makes it), so run
 * depmod on the unpacked tree. `base` is the directory holding lib/modules.
 */
export async function runDepmod(base: string, release: string): Promise<string> {
  await execa(await toolPath('depmod'), ['-b', base, release], { timeout: scaledMs(DEPMOD_TIMEOUT_MS) });
  return readFile(join(base, 'lib', 'modules', release, 'modules.dep'), 'utf8');
}

/** Parses modules.dep into module name → {file, deps (files)}. */
export function parseModulesDep(text: string): Map<string, { file: string; deps: string[] }> {
  const map = new Map<string, { file: string; deps: string[] }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const file = line.slice(0, colon).trim();
    const deps = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean);
    map.set(moduleName(file), { file, deps });
  }
  return map;
}

/** modules.builtin lists one path per line; returns the set of names. */
export function parseBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter(Boolean).map(moduleName));
}

/** The wanted modules plus their dependencies, ordered so each comes after what it needs. */
export function moduleClosure(wanted: readonly string[], dep: ReturnType<typeof parseModulesDep>, builtin: Set<string>): ModuleClosure {
  const byFile = new Map([...dep.values()].map((m) => [m.file, m]));
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (file: string): void => {
    if (ordered.includes(file)) return;
    if (visiting.has(file)) throw new HarnessError(`modules.dep has a dependency cycle through ${file}`);
    visiting.add(file);
    for (const d of byFile.get(file)?.deps ?? []) visit(d);
    visiting.delete(file);
    ordered.push(file);
  };
  const result: ModuleClosure = { files: ordered, builtin: [], absent: [] };
  for (const name of wanted) {
    const entry = dep.get(name);
    if (entry) visit(entry.file);
    else if (builtin.has(name)) result.builtin.push(name);
    else result.absent.push(name);
  }
  return result;
}
