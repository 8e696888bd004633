import { execa } from 'execa';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dir as tmpDir, type DirectoryResult } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { findDebianArchive } from '../../harness/util/apt-sources.ts';
import { HOST_TOOLS } from '../../harness/util/host-tools.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/**
 * scripts/setup-debian.sh on the apt layouts a new user's machine may have,
 * each in a private directory standing in for /etc/apt, with an empty dpkg
 * database (every package missing) and a dry run (nothing installed). The
 * TypeScript reader the harness uses must find the same archive.
 */
const SCRIPT = join(REPO_ROOT, 'scripts', 'setup-debian.sh');
const MIRROR = 'http://mirror.invalid/debian';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

const STOCK_BOOKWORM_DEB822 = `Types: deb
URIs: ${MIRROR}
Suites: bookworm bookworm-updates
Components: main
Signed-By: ${KEYRING}

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: ${KEYRING}
`;

let work: DirectoryResult;
beforeEach(async () => {
  // Readable by all: one test runs the script as an unprivileged user.
  work = await tmpDir({ unsafeCleanup: true, prefix: 'memmap-setup-test-', mode: 0o755 });
  await mkdir(join(work.path, 'apt', 'sources.list.d'), { recursive: true });
  await mkdir(join(work.path, 'dpkg'));
  await writeFile(join(work.path, 'dpkg', 'status'), '');
  await osRelease('bookworm');
  // A copy the unprivileged user can read: the clone itself may sit in a 0700 home (/root).
  await mkdir(join(work.path, 'scripts', 'lib'), { recursive: true });
  await copyFile(SCRIPT, join(work.path, 'scripts', 'setup-debian.sh'));
  await copyFile(join(REPO_ROOT, 'scripts', 'lib', 'debian-archive.sh'), join(work.path, 'scripts', 'lib', 'debian-archive.sh'));
});
afterEach(() => work.cleanup());

const apt = (...parts: string[]) => join(work.path, 'apt', ...parts);
const osRelease = (codename: string) => writeFile(join(work.path, 'os-release'), `ID=debian\nVERSION_CODENAME=${codename}\n`);

function runScript(extraEnv: Record<string, string> = {}, asNobody = false) {
  const env = {
    MEMMAP_APT_ETC: apt(),
    MEMMAP_OS_RELEASE: join(work.path, 'os-release'),
    MEMMAP_DPKG_ADMINDIR: join(work.path, 'dpkg'),
    MEMMAP_SETUP_DRY_RUN: '1',
    ...extraEnv,
  };
  const asUser = asNobody && process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const [file, ...args] = [...asUser, 'bash', join(work.path, 'scripts', 'setup-debian.sh')];
  return execa(file!, args, { env, reject: false, timeout: scaledMs(30_000) });
}

// The script starts a few processes; on a loaded two-core machine that takes seconds.
describe('setup-debian.sh on apt layouts', { timeout: scaledMs(60_000) }, () => {
  test('a stock Debian 12 (deb822 only, no sources.list) uses its archive, not the security one, with its keyring', async () => {
    await writeFile(apt('sources.list.d', 'debian.sources'), STOCK_BOOKWORM_DEB822);
    const result = await runScript();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`deb [signed-by=${KEYRING}] ${MIRROR} bookworm main`);
    expect(result.stdout).toContain(`deb [signed-by=${KEYRING}] ${MIRROR} bookworm-backports main`);
    expect(result.stdout).toMatch(/install: .*\blibfdt-dev\b/);
    expect(result.stdout).toMatch(/install: .*\bkmod\b/);
    expect(await findDebianArchive(apt())).toEqual({ uri: MIRROR, keyring: KEYRING });
  });

  test('a classic sources.list with a plain deb line', async () => {
    await writeFile(apt('sources.list'), `# comment\ndeb-src ${MIRROR}-src bookworm main\ndeb ${MIRROR}/ bookworm main\n`);
    const result = await runScript();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`mirror ${MIRROR};`);
    expect((await findDebianArchive(apt()))?.uri).toBe(MIRROR);
  });

  test('deb [options] lines: signed-by is taken from the options', async () => {
    await writeFile(apt('sources.list.d', 'main.list'), `deb [arch=amd64 signed-by=/etc/keys/archive.gpg] ${MIRROR} bookworm main\n`);
    const result = await runScript();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`deb [signed-by=/etc/keys/archive.gpg] ${MIRROR} bookworm main`);
    expect(await findDebianArchive(apt())).toEqual({ uri: MIRROR, keyring: '/etc/keys/archive.gpg' });
  });

  test('files apt ignores and disabled stanzas are ignored', async () => {
    await writeFile(apt('sources.list.d', 'old.list.disabled-by-farm'), 'deb http://wrong.invalid/debian bookworm main\n');
    await writeFile(apt('sources.list.d', 'backup.list.save'), 'deb http://wrong.invalid/debian bookworm main\n');
    await writeFile(apt('sources.list.d', 'a.sources'), `Enabled: no\nTypes: deb\nURIs: http://wrong.invalid/debian\nSuites: bookworm\n`);
    await writeFile(apt('sources.list.d', 'b.sources'), STOCK_BOOKWORM_DEB822);
    const result = await runScript();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('wrong.invalid');
    expect((await findDebianArchive(apt()))?.uri).toBe(MIRROR);
  });

  test('a Debian 13 host uses its own suite and needs no backports', async () => {
    await osRelease('trixie');
    await writeFile(apt('sources.list.d', 'debian.sources'), STOCK_BOOKWORM_DEB822.replaceAll('bookworm', 'trixie'));
    const result = await runScript();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${MIRROR} trixie main`);
    expect(result.stdout).not.toContain('backports');
    expect(result.stdout).toMatch(/install: .*\bpython3-pycotap\b/);
  });

  test('without root: one line with the exact apt-get command', async () => {
    await writeFile(apt('sources.list.d', 'debian.sources'), STOCK_BOOKWORM_DEB822);
    const result = await runScript({ MEMMAP_SETUP_DRY_RUN: '0' }, true);
    expect(result.exitCode).toBe(1);
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^setup-debian: not root; .*run: apt-get install --no-install-recommends .*\blibfdt-dev\b.*python3-pycotap\/bookworm-backports$/);
  });

  test('no Debian archive configured: one line saying what to do', async () => {
    await writeFile(apt('sources.list.d', 'other.list'), 'deb http://example.invalid/ubuntu noble main\n');
    const result = await runScript();
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^setup-debian: no Debian mirror found .*; configure apt with a Debian mirror and rerun/);
    expect(await findDebianArchive(apt())).toBeUndefined();
  });

  test('an unsupported host release is refused in one line', async () => {
    await osRelease('bullseye');
    const result = await runScript();
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^setup-debian: unsupported host 'bullseye'/);
  });
});

describe('the package list', () => {
  test('every program the harness checks for is installed by the script, with the same package', async () => {
    const script = await readFile(SCRIPT, 'utf8');
    const block = /tool_packages=\(([\s\S]*?)\)/.exec(script)?.[1] ?? '';
    const pairs = Object.fromEntries(block.split(/\s+/).filter(Boolean).map((pair) => pair.split(':') as [string, string]));
    expect(pairs).toEqual(HOST_TOOLS);
  });
});
