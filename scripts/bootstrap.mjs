// First step of `npm start` and `npm test` on a fresh machine: Debian packages
// through scripts/setup-debian.sh, then node modules through `npm ci` when the
// installed tree is missing or was installed from another lock file. Plain JavaScript: it
// runs before any dependency is installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bootstrap: '${command} ${args.join(' ')}' failed; fix the error above and rerun`);
    process.exit(result.status ?? 1);
  }
}

// node_modules was installed from exactly this lock file and package.json: a
// stamp of their hash, written after `npm ci` succeeds. (An mtime comparison
// misfires in a fresh clone, where git gives every file the clone's time.)
const STAMP = join(root, 'node_modules', '.memmap-harness-installed');

function installInputsHash() {
  const hash = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) hash.update(readFileSync(join(root, file)));
  return hash.digest('hex');
}

function modulesAreCurrent(wanted) {
  return existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === wanted;
}

run('bash', [join(root, 'scripts', 'setup-debian.sh')]);
const wanted = installInputsHash();
if (!modulesAreCurrent(wanted)) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(STAMP, `${wanted}\n`);
}
