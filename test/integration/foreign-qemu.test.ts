import { execa } from 'execa';
import { chmod, copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { testbed } from './testbed.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// `run --qemu PATH` with binaries the harness did not build: a copy of the v5
// build outside the cache, and a wrapper script that execs it (as users wrap
// their own builds). Labels become safe file names in every report.
const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');
let work: string;
let copy: string;
let wrapper: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'memmap-harness-foreign qemu-'));
  copy = join(work, 'my build', 'qemu-system-x86_64');
  await execa('mkdir', ['-p', join(work, 'my build')]);
  await copyFile(testbed().qemuV5, copy);
  await chmod(copy, 0o755);
  wrapper = join(work, 'qemu:wrapped.sh');
  await writeFile(wrapper, `#!/bin/sh\n# a user's wrapper around their own build\nexec '${copy}' "$@"\n`);
  await chmod(wrapper, 0o755);
});

afterAll(() => rm(work, { recursive: true, force: true }));

async function runCli(qemu: string, results: string) {
  return execa('node', [CLI, 'run', '--qemu', qemu, '--case', 'seed-spm', '--case', 'seed-normal', '--results', results], { reject: false, all: true, timeout: scaledMs(10 * 60_000) });
}

describe('run --qemu with a binary from outside the cache', () => {
  for (const [what, binary] of [['a copy in a directory with a space', () => copy], ['a wrapper script with a colon in its name', () => wrapper]] as const) {
    it(`${what}: the seed cases pass and every file name is safe`, async () => {
      const results = join(work, `results-${what.split(' ')[1]}`);
      const run = await runCli(binary(), results);
      expect(run.all).toMatch(/^PASS\s+seed-spm/m);
      expect(run.all).toMatch(/^PASS\s+seed-normal/m);
      expect(run.exitCode, run.all).toBe(0);
      const files = [...(await readdir(results)), ...(await readdir(join(results, 'svg')))];
      expect(files.filter((f) => f.endsWith('.serial.log'))).toHaveLength(2);
      for (const file of files) expect(file).toMatch(/^[A-Za-z0-9._@+-]+$/);
      const junit = await execa('cat', [join(results, 'junit.xml')]);
      expect(junit.stdout).toMatch(/classname="bin-[A-Za-z0-9._+-]+\.q35\.ovmf-sid\.minimal-6\.1"/);
    });
  }
});
