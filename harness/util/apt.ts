import { execa } from 'execa';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheArea } from '../cache/dirs.ts';
import { HarnessError } from './errors.ts';

/**
 * Debian packages through apt with a private state directory: `apt-get update`,
 * `download` and `source --download-only` never touch the system's apt state,
 * and use the mirror the machine is already configured with.
 */

/** Suites the harness fetches from, binary and source. */
export const APT_SUITES = ['bookworm', 'bookworm-backports', 'trixie', 'sid'] as const;
export type AptSuite = (typeof APT_SUITES)[number];

const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;
const APT_TIMEOUT_MS = 15 * 60 * 1000;

export class AptError extends HarnessError {}

/** The Debian mirror from /etc/apt/sources.list and sources.list.d (one-line and deb822 formats). */
export async function configuredMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  for (const name of await readdir(dir).catch(() => [] as string[])) files.push(join(dir, name));
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const match = /^\s*(?:deb(?:-src)?(?:\s+\[[^\]]*\])?|URIs:)\s+(\S+\/debian)\/?(?:\s|$)/.exec(line);
      if (match?.[1]) return match[1];
    }
  }
  throw new AptError('no Debian mirror found in /etc/apt/sources.list*', 'configure apt with a Debian mirror');
}

/** Options that point apt-get and apt-cache at the private state. */
export async function aptOptions(): Promise<string[]> {
  const root = cacheArea('apt');
  const lists = join(root, 'lists');
  const archives = join(root, 'archives');
  await mkdir(join(lists, 'partial'), { recursive: true });
  await mkdir(join(archives, 'partial'), { recursive: true });
  const sourcesFile = join(root, 'sources.list');
  const mirror = await configuredMirror();
  const sources = APT_SUITES.flatMap((suite) => [`deb ${mirror} ${suite} main`, `deb-src ${mirror} ${suite} main`]).join('\n');
  const previous = await readFile(sourcesFile, 'utf8').catch(() => '');
  if (previous !== `${sources}\n`) await writeFile(sourcesFile, `${sources}\n`);
  return [
    '-o', `Dir::State::Lists=${lists}`,
    '-o', `Dir::Etc::SourceList=${sourcesFile}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::Cache=${root}`,
    '-o', `Dir::Cache::archives=${archives}`,
    '-o', 'APT::Default-Release=bookworm',
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Debug::NoLocking=1',
  ];
}

let refreshed: Promise<void> | undefined;

/** Runs `apt-get update` on the private lists when they are missing or older than a day (once per process). */
export function refreshLists(): Promise<void> {
  refreshed ??= (async () => {
    const stamp = join(cacheArea('apt'), 'lists', 'updated');
    const age = await stat(stamp).then((s) => Date.now() - s.mtimeMs, () => Infinity);
    if (age < LISTS_MAX_AGE_MS) return;
    await runApt('apt-get', ['update', '-qq']);
    await writeFile(stamp, new Date().toISOString());
  })();
  return refreshed;
}

/** The version apt would fetch for `pkg` from `suite`, or undefined when the suite lacks it. */
export async function candidateVersion(pkg: string, suite: AptSuite): Promise<string | undefined> {
  await refreshLists();
  const { stdout } = await runApt('apt-cache', ['show', `${pkg}/${suite}`], { allowFailure: true });
  return /^Version:\s*(\S+)/m.exec(stdout)?.[1];
}

/** One field of a binary package's record, e.g. `Depends` of `linux-image-amd64=6.1.x`. */
export async function packageField(pkgAtVersion: string, field: string): Promise<string | undefined> {
  await refreshLists();
  const { stdout } = await runApt('apt-cache', ['show', pkgAtVersion], { allowFailure: true });
  return new RegExp(`^${field}:\\s*(.+)$`, 'm').exec(stdout)?.[1];
}

/** Downloads one binary package (`name=version`) into `dest`; returns the .deb path. Nothing is installed. */
export async function downloadDeb(pkg: string, version: string, dest: string): Promise<string> {
  await refreshLists();
  await mkdir(dest, { recursive: true });
  await runApt('apt-get', ['download', `${pkg}=${version}`], { cwd: dest });
  const debs = (await readdir(dest)).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (debs.length !== 1 || !debs[0]) throw new AptError(`apt-get download ${pkg}=${version} left ${debs.length} .deb files in ${dest}`);
  return join(dest, debs[0]);
}

/** Downloads a source package (`name=version`) into `dest` without unpacking it; returns the file names. */
export async function downloadSource(pkg: string, version: string, dest: string): Promise<string[]> {
  await refreshLists();
  await mkdir(dest, { recursive: true });
  await runApt('apt-get', ['source', '--download-only', `${pkg}=${version}`], { cwd: dest });
  return readdir(dest);
}

interface RunAptOptions {
  cwd?: string;
  allowFailure?: boolean;
}

async function runApt(tool: 'apt-get' | 'apt-cache', args: string[], options: RunAptOptions = {}) {
  const result = await execa(tool, [...(await aptOptions()), ...args], {
    cwd: options.cwd,
    reject: false,
    timeout: APT_TIMEOUT_MS,
    env: { DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.exitCode !== 0 && !options.allowFailure) {
    const why = lastErrorLine(result.stderr) ?? `exit code ${result.exitCode}`;
    throw new AptError(`${tool} ${args.join(' ')} failed: ${why}`, 'check the Debian mirror in /etc/apt/sources.list and the package version');
  }
  return result;
}

function lastErrorLine(stderr: string): string | undefined {
  return stderr.split('\n').filter((l) => /^E:/.test(l)).pop() ?? stderr.split('\n').filter(Boolean).pop();
}
