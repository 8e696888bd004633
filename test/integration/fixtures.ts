import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { test as base } from 'vitest';
import type { QemuUnderTest } from '../../harness/run/run-case.ts';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { testbed, type Testbed } from './testbed.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// Read once, before any test points TMPDIR elsewhere (privateTmp).
const SYSTEM_TMP = tmpdir();

/** The `memmap-harness` command as users run it. */
export const CLI = join(REPO_ROOT, 'bin', 'memmap-harness.js');

/** What an integration test file shares (like qemu_test's base class: scratch space, the cached builds). */
export interface IntegrationFixtures {
  /** A private directory for the file's tests, removed after its last test whatever happened. */
  workDir: string;
  /** The cached QEMU builds and firmware directories the global setup made. */
  bed: Testbed;
  /** The cached builds as runCase takes them: our own v5 and v6 series, and the unpatched baseline. */
  qemu: { v5: QemuUnderTest; v6: QemuUnderTest; baseline: QemuUnderTest };
  /** TMPDIR pointed at a private directory for the file (restored after): what runs leave behind can be seen there. */
  privateTmp: string;
  /** Runs the CLI from the repository root without a TTY; never rejects (look at exitCode). */
  cli: (args: readonly string[], timeoutMs: number) => Promise<Result<{ reject: false; all: true }>>;
}

/** `test` with the integration fixtures; file-scoped ones are set up once per file. */
export const integrationTest = base.extend<IntegrationFixtures>({
  workDir: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const dir = await mkdtemp(join(SYSTEM_TMP, 'memmap-harness-it-'));
      try {
        await use(dir);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    { scope: 'file' },
  ],
  bed: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => use(testbed()),
    { scope: 'file' },
  ],
  qemu: [
    async ({ bed }, use) =>
      use({
        v5: { binary: bed.qemuV5, label: 'v5', firmwareDirs: bed.firmwareDirs, ownSeries: 'v5' },
        v6: { binary: bed.qemuV6, label: 'v6', firmwareDirs: bed.firmwareDirs, ownSeries: 'v6' },
        baseline: { binary: bed.qemuBaseline, label: 'baseline', firmwareDirs: bed.firmwareDirs },
      }),
    { scope: 'file' },
  ],
  privateTmp: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const dir = await mkdtemp(join(SYSTEM_TMP, 'memmap-harness-it-tmp-'));
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = dir;
      try {
        await use(dir);
      } finally {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
        await rm(dir, { recursive: true, force: true });
      }
    },
    { scope: 'file' },
  ],
  cli: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => use((args, timeoutMs) => execa('node', [CLI, ...args], { cwd: REPO_ROOT, reject: false, all: true, timeout: scaledMs(timeoutMs) })),
    { scope: 'file' },
  ],
});
