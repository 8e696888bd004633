import { execa } from 'execa';
import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPrivateDir } from '../../harness/vm/private-dir.ts';
import { sweepOrphans } from '../../harness/vm/owned-dirs.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

/*
 * Issue 22: the /tmp sweeper takes only this uid's memmap-vm-* (and
 * memmap-harness-run-*) directories whose owner is gone, judged by an flock
 * the owner holds, not by a pid. Owners here are real processes.
 */
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'memmap-owned-test-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** A private dir made by another harness process through the harness's own code, which is then SIGKILLed (no handler runs). */
async function orphanOfKilledProcess(): Promise<string> {
  const script = `import('${join(REPO_ROOT, 'harness', 'vm', 'private-dir.ts')}').then(async (m) => { const d = await m.createPrivateDir(${JSON.stringify(root)}); console.log(d.path); setInterval(() => {}, 1000); })`;
  const child = execa(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, reject: false });
  const path = await new Promise<string>((resolve) => child.stdout?.on('data', (d: Buffer) => resolve(d.toString().trim())));
  // Alive: its directory is not swept.
  expect(await sweepOrphans(root)).toEqual([]);
  child.kill('SIGKILL');
  await child;
  // The lock's holder (a `flock … cat` child) sees its pipe close and exits a moment later.
  const deadline = Date.now() + scaledMs(10_000);
  while ((await execa('flock', ['--nonblock', join(path, '.memmap-harness-lock'), 'true'], { reject: false })).exitCode !== 0) {
    if (Date.now() > deadline) throw new Error(`the owner lock of ${path} outlived its process`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return path;
}

describe('the temp-directory sweeper', { timeout: scaledMs(60_000) }, () => {
  it("sweeps the directory of a harness killed with SIGKILL, never a live one's", async () => {
    const live = await createPrivateDir(root);
    const orphan = await orphanOfKilledProcess();
    expect(await sweepOrphans(root)).toEqual([orphan]);
    expect(await readdir(root)).toEqual([live.path.slice(root.length + 1)]);
    await live.remove();
  });

  it("leaves another uid's orphan alone (root sweeping a shared /tmp); the same directory is swept once it is ours", async () => {
    const orphan = await orphanOfKilledProcess();
    await execa('chown', ['-R', 'nobody:nogroup', orphan]);
    expect(await sweepOrphans(root)).toEqual([]);
    await chown(orphan, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    expect(await sweepOrphans(root)).toEqual([orphan]);
  });

  it('a directory without a lock file (being made, or kept on purpose) is left; an older version with a dead pid is swept', async () => {
    await mkdir(join(root, 'memmap-vm-making'));
    const dead = execa('true');
    await dead;
    await mkdir(join(root, 'memmap-vm-old-dead'));
    await writeFile(join(root, 'memmap-vm-old-dead', '.memmap-harness-owner'), `${dead.pid}\n`);
    await mkdir(join(root, 'memmap-vm-old-live'));
    await writeFile(join(root, 'memmap-vm-old-live', '.memmap-harness-owner'), `${process.pid}\n`);
    expect(await sweepOrphans(root)).toEqual([join(root, 'memmap-vm-old-dead')]);
    expect((await readdir(root)).sort()).toEqual(['memmap-vm-making', 'memmap-vm-old-live']);
  });
});
