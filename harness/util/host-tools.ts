import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { HarnessError } from './errors.ts';

/**
 * The programs the harness runs on the host, each with the Debian package that
 * provides it. scripts/setup-debian.sh installs the same list (keep the two in
 * step; a unit test compares them). Checking them up front turns a missing
 * program into one line naming its package instead of a stack trace mid-run.
 */
export const HOST_TOOLS = {
  gcc: 'gcc',
  make: 'make',
  git: 'git',
  'pkg-config': 'pkg-config',
  ninja: 'ninja-build',
  ccache: 'ccache',
  bzip2: 'bzip2',
  xz: 'xz-utils',
  zstd: 'zstd',
  gzip: 'gzip',
  tar: 'tar',
  cpio: 'cpio',
  patch: 'patch',
  python3: 'python3',
  flex: 'flex',
  bison: 'bison',
  dtc: 'device-tree-compiler',
  bc: 'bc',
  depmod: 'kmod',
  'dpkg-deb': 'dpkg',
  debootstrap: 'debootstrap',
  // ACPICA's disassembler: the reference decoder for the raw ACPI tables the guest reads.
  iasl: 'acpica-tools',
} as const;
export type HostTool = keyof typeof HOST_TOOLS;

/** Directories searched besides $PATH: depmod and debootstrap live in sbin, often off a user's PATH. */
const SBIN_DIRS = ['/usr/sbin', '/sbin'];

/** One or more host programs are missing; names each with its package. */
export class MissingToolError extends HarnessError {
  constructor(readonly missing: HostTool[]) {
    const named = missing.map((tool) => `${tool} (package ${HOST_TOOLS[tool]})`).join(', ');
    const packages = [...new Set(missing.map((tool) => HOST_TOOLS[tool]))].join(' ');
    super(`missing program${missing.length > 1 ? 's' : ''}: ${named}`, `run 'bash scripts/setup-debian.sh' as root, or apt-get install ${packages}`);
  }
}

/** The absolute path of `tool`, or undefined when neither $PATH nor sbin has it. */
export async function findTool(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, tool);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

/** Throws one MissingToolError naming every absent program of `tools` (default: all of them). */
export async function requireHostTools(tools: readonly HostTool[] = Object.keys(HOST_TOOLS) as HostTool[]): Promise<void> {
  const missing: HostTool[] = [];
  for (const tool of tools) if ((await findTool(tool)) === undefined) missing.push(tool);
  if (missing.length > 0) throw new MissingToolError(missing);
}

/** The path to run `tool` by; a MissingToolError naming its package when it is absent. */
export async function toolPath(tool: HostTool): Promise<string> {
  const path = await findTool(tool);
  if (path === undefined) throw new MissingToolError([tool]);
  return path;
}
