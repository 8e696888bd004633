import { access, chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheArea } from '../../harness/util/cache-dirs.ts';
import { silentReporter } from '../../harness/host/progress.ts';
import { ensureQemu } from '../../harness/qemu-build/qemu.ts';
import { pruneTrees } from '../../harness/qemu-build/tree.ts';
import { acquireLock } from '../../harness/qemu-build/tree-lock.ts';

/*
 * The persistent build tree with a toy source (real configure, ninja, git
 * apply and patch; seconds, not a QEMU build): configure runs once per tree,
 * a new series rewrites only the files whose content changes, and ninja
 * rebuilds only what depends on them.
 */
let scratch: string;
let source: string;
let cacheEnv: NodeJS.ProcessEnv;
let stepLog: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'build-tree-test-'));
  source = join(scratch, 'toy');
  stepLog = join(scratch, 'steps.log');
  cacheEnv = { XDG_CACHE_HOME: join(scratch, 'cache') };
  await mkdir(source);
  for (const name of ['a.c', 'b.c', 'c.c']) await writeFile(join(source, name), `${name} line 1\n${name} line 2\n`);
  // Each object is a copy of its source; the "binary" prints the version and is rebuilt from the objects.
  const ninja = [
    'rule obj',
    `  command = echo obj $out >> ${stepLog} && cp $in $out`,
    'rule link',
    `  command = printf '#!/bin/sh\\necho "QEMU emulator version 0.0.2-toy"\\n' > $out && cat $in >> /dev/null && chmod +x $out`,
    ...['a', 'b', 'c'].map((n) => `build ${n}.o: obj ../${n}.c`),
    'build qemu-system-x86_64: link a.o b.o c.o',
    '',
  ].join('\n');
  await writeFile(join(source, 'configure'), `#!/bin/sh\necho configure >> ${stepLog}\ncat > build.ninja <<'EOF'\n${ninja}EOF\n`);
  await chmod(join(source, 'configure'), 0o755);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A one-patch series that replaces line 2 of `file` with `text`. */
async function series(name: string, file: string, text: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(dir);
  const patch = [`--- a/${file}`, `+++ b/${file}`, '@@ -1,2 +1,2 @@', ` ${file} line 1`, `-${file} line 2`, `+${text}`, ''].join('\n');
  await writeFile(join(dir, '0001-edit.patch'), patch);
  return dir;
}

async function build(patches: string | null) {
  await writeFile(stepLog, '');
  const result = await ensureQemu({ source: `dir:${source}`, patches, cacheEnv, ccacheDir: null, reporter: silentReporter });
  return { result, steps: (await readFile(stepLog, 'utf8')).split('\n').filter(Boolean) };
}

describe('the persistent build tree', () => {
  it('configures once, then rebuilds only what a series changes, back and forth', async () => {
    const first = await build(await series('s1', 'a.c', 'a.c edited by s1'));
    expect(first.steps[0]).toBe('configure');
    expect(first.steps.slice(1).sort()).toEqual(['obj a.o', 'obj b.o', 'obj c.o']);

    const [tree] = await readdir(cacheArea('qemu-tree', cacheEnv));
    if (!tree) throw new Error('no build tree was made');
    const src = join(cacheArea('qemu-tree', cacheEnv), tree, 'src');
    expect(await readFile(join(src, 'a.c'), 'utf8')).toContain('a.c edited by s1');
    const cBefore = (await stat(join(src, 'c.c'))).mtimeMs;

    // s2 edits b.c: a.c goes back to the source (rebuilt), b.c changes (rebuilt), c.c is left alone.
    const second = await build(await series('s2', 'b.c', 'b.c edited by s2'));
    expect(second.steps.sort()).toEqual(['obj a.o', 'obj b.o']);
    expect(await readFile(join(src, 'a.c'), 'utf8')).toBe('a.c line 1\na.c line 2\n');
    expect(await readFile(join(src, 'b.c'), 'utf8')).toContain('b.c edited by s2');
    expect((await stat(join(src, 'c.c'))).mtimeMs).toBe(cBefore);
    expect(second.result.cacheHit).toBe(false);
    expect((await execa(second.result.manifest.binary, ['--version'])).stdout).toContain('0.0.2-toy');
    const configureLog = await readFile(second.result.manifest.logs.configure, 'utf8');
    expect(configureLog).toMatch(/configure not run: reused the configured build tree/);
    expect(configureLog).toContain('  a.c\n  b.c\n');

    // The baseline: only b.c goes back; a second request is a plain cache hit.
    const baseline = await build(null);
    expect(baseline.steps).toEqual(['obj b.o']);
    expect((await build(null)).result.cacheHit).toBe(true);
  });

  it('keeps the most recently used trees, empties the rest, and never one in use', async () => {
    const area = join(scratch, 'trees');
    const names = ['t1', 't2', 't3', 't4', 'busy'];
    for (const [i, name] of names.entries()) {
      await mkdir(join(area, name, 'src'), { recursive: true });
      await writeFile(join(area, name, 'state.json'), '{"touched":[],"configured":true}\n');
      // t1 used last, busy first (oldest).
      const when = new Date(Date.now() - (i + 1) * 3600_000);
      await utimes(join(area, name, 'state.json'), when, when);
    }
    const release = await acquireLock(join(area, 'busy', 'lock'), { timeoutMs: 5_000 });
    try {
      expect((await pruneTrees(area, 'current', 3)).sort()).toEqual(['t3', 't4']);
    } finally {
      await release();
    }
    const has = (name: string) => access(join(area, name, 'src')).then(() => true, () => false);
    expect(await Promise.all(names.map(has))).toEqual([true, true, false, false, true]);
  });

  it('leaves no lock holder behind', async () => {
    // From /proc, not ps: a bare Debian root (the fresh-machine check) has no procps.
    const flocks: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
      const [comm, rest] = [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat.slice(stat.lastIndexOf(')') + 2)];
      if (comm === 'flock' && Number(rest.split(' ')[1]) === process.pid) flocks.push(Number(entry));
    }
    expect(flocks).toEqual([]);
  });
});
