// First step of `npm start` and `npm test` on a fresh machine: Debian packages
// through scripts/setup-debian.sh, then node modules through `npm ci` when the
// installed tree is missing or older than the lock file. Plain JavaScript: it
// runs before any dependency is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
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

function modulesAreCurrent() {
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return false;
  return statSync(installed).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs;
}

run('bash', [join(root, 'scripts', 'setup-debian.sh')]);
if (!modulesAreCurrent()) run('npm', ['ci', '--no-audit', '--no-fund']);
