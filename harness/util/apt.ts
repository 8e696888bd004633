import { execa } from 'execa';
import { dyingWithParent } from './subprocess.ts';
import { access, mkdir, readFile, readdir } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.ts';
import { join } from 'node:path';
import { cacheArea } from './cache-dirs.ts';
import { DEFAULT_KEYRINGS, findDebianArchive, type DebianArchive } from './apt-sources.ts';
import { HarnessError } from './errors.ts';
import { scaledMs } from './timeouts.ts';

/**
 * Debian packages through apt with a private state directory: `apt-get update`,
 * `download` and `source --download-only` never touch the system's apt state,
 * and use the mirror the machine is already configured with.
 */

/** Suites the harness fetches from, binary and source. */
export const APT_SUITES = ['bookworm', 'bookworm-backports', 'trixie', 'sid'] as const;
export type AptSuite = (typeof APT_SUITES)[number];

const APT_TIMEOUT_MS = 15 * 60 * 1000;

export class AptError extends HarnessError {}

/** The Debian archive of the machine's apt configuration (one-line and deb822 sources, as apt reads them). */
export async function configuredArchive(etc = process.env.MEMMAP_APT_ETC ?? '/etc/apt'): Promise<DebianArchive> {
  const found = await findDebianArchive(etc);
  if (!found) throw new AptError(`no Debian archive found in ${etc}/sources.list or ${etc}/sources.list.d/*.{list,sources}`, 'configure apt with a Debian mirror');
  return { uri: found.uri, keyring: found.keyring ?? (await firstExisting(DEFAULT_KEYRINGS)) };
}

/** The Debian mirror URI of the machine's apt configuration. */
export async function configuredMirror(): Promise<string> {
  return (await configuredArchive()).uri;
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) if (await access(path).then(() => true, () => false)) return path;
  return undefined;
}

/** Options that point apt-get and apt-cache at the private state. */
export async function aptOptions(): Promise<string[]> {
  const root = cacheArea('apt');
  const lists = join(root, 'lists');
  const archives = join(root, 'archives');
  await mkdir(join(lists, 'partial'), { recursive: true });
  await mkdir(join(archives, 'partial'), { recursive: true });
  const sourcesFile = join(root, 'sources.list');
  const { uri, keyring } = await configuredArchive();
  // signed-by: trixie's apt trusts no key globally, so every private entry names the archive keyring.
  const options = keyring ? ` [signed-by=${keyring}]` : '';
  const sources = APT_SUITES.flatMap((suite) => [`deb${options} ${uri} ${suite} main`, `deb-src${options} ${uri} ${suite} main`]).join('\n');
  const previous = await readFile(sourcesFile, 'utf8').catch(() => '');
  if (previous !== `${sources}\n`) await writeFileAtomic(sourcesFile, `${sources}\n`);
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

/**
 * When the private package lists are fetched again. A run whose inputs are all
 * cached must work without a network, so lists are fetched only when there are
 * none yet, when asked (`--refresh`, MEMMAP_HARNESS_REFRESH=1), or once after a
 * download failed on lists that may be stale. MEMMAP_HARNESS_OFFLINE=1 never
 * fetches: what is not cached is then an error.
 */
export function refreshPolicy(env: NodeJS.ProcessEnv = process.env): 'offline' | 'always' | 'when-missing' {
  if (env.MEMMAP_HARNESS_OFFLINE === '1') return 'offline';
  return env.MEMMAP_HARNESS_REFRESH === '1' ? 'always' : 'when-missing';
}

let refreshed: Promise<void> | undefined;
let fetchedThisProcess = false;

/** Makes sure the private lists exist, fetching them per refreshPolicy (at most once per process). */
export function refreshLists(): Promise<void> {
  refreshed ??= (async () => {
    const policy = refreshPolicy();
    const present = await access(listsStamp()).then(() => true, () => false);
    if (policy === 'offline') {
      if (!present) throw new AptError('offline (MEMMAP_HARNESS_OFFLINE=1) and no package lists are cached', 'run once with the network to fill the cache');
      return;
    }
    if (present && policy === 'when-missing') return;
    await fetchLists();
  })();
  return refreshed;
}

async function fetchLists(): Promise<void> {
  await runApt('apt-get', ['update', '-qq']);
  await writeFileAtomic(listsStamp(), new Date().toISOString());
  fetchedThisProcess = true;
}

function listsStamp(): string {
  return join(cacheArea('apt'), 'lists', 'updated');
}

/**
 * Runs a download; when it fails on lists fetched by an earlier process (the
 * mirror may have dropped that version since), fetches the lists once and
 * tries again, unless offline.
 */
async function withFreshListsOnFailure<T>(download: () => Promise<T>): Promise<T> {
  await refreshLists();
  try {
    return await download();
  } catch (error) {
    if (fetchedThisProcess || refreshPolicy() === 'offline') throw error;
    await fetchLists();
    return download();
  }
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
  await mkdir(dest, { recursive: true });
  await withFreshListsOnFailure(() => runApt('apt-get', ['download', `${pkg}=${version}`], { cwd: dest }));
  const debs = (await readdir(dest)).filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (debs.length !== 1 || !debs[0]) throw new AptError(`apt-get download ${pkg}=${version} left ${debs.length} .deb files in ${dest}`);
  return join(dest, debs[0]);
}

/** Downloads a source package (`name=version`) into `dest` without unpacking it; returns the file names. */
export async function downloadSource(pkg: string, version: string, dest: string): Promise<string[]> {
  await mkdir(dest, { recursive: true });
  await withFreshListsOnFailure(() => runApt('apt-get', ['source', '--download-only', `${pkg}=${version}`], { cwd: dest }));
  return readdir(dest);
}

interface RunAptOptions {
  cwd?: string;
  allowFailure?: boolean;
}

async function runApt(tool: 'apt-get' | 'apt-cache', args: string[], options: RunAptOptions = {}) {
  // A harness killed mid-download must not leave apt-get writing into a staging directory nobody will publish.
  const [program, argv] = dyingWithParent(tool, [...(await aptOptions()), ...args]);
  const result = await execa(program, argv, {
    cwd: options.cwd,
    reject: false,
    timeout: scaledMs(APT_TIMEOUT_MS),
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
