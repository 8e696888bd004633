// Boots real guests under TCG and saves their raw serial output as parser
// fixtures in test/fixtures/serial/, with index.json and README.md saying how
// each file was made. Usage: npx tsx scripts/capture-fixtures.ts --help
import { execa } from 'execa';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { withDir } from 'tmp-promise';
import { cacheRoot } from '../harness/util/cache-dirs.ts';
import { bootGuest, SEED_TWO_NODES } from '../harness/image/boot.ts';
import { ensureFirmware, type FirmwareId } from '../harness/image/firmware.ts';
import { ensureInitramfs } from '../harness/image/initramfs.ts';
import { ensureKernel, type KernelId } from '../harness/image/kernel.ts';
import { HarnessError } from '../harness/util/errors.ts';
import { sha256 } from '../harness/util/hash.ts';
import { ensureQemu } from '../harness/qemu-build/qemu.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_OUT = join(ROOT, 'test', 'fixtures', 'serial');

/** Node 1 of the seed layout (0x280000000-0x47fffffff) turned from RAM (1) into soft reserved (0xefffffff) by the guest kernel itself. */
const MEMMAP_SOFT_RESERVED = 'memmap=8G%0x280000000-1+0xefffffff';
const ONE_NODE: readonly string[] = ['-m', '16G', '-smp', '8'];

interface Capture {
  kernel: KernelId;
  firmware: FirmwareId;
  machine: 'q35' | 'pc';
  topology: 'two-node' | 'one-node';
  /** Extra kernel command line words, e.g. the memmap= override. */
  append?: string[];
  /** Suffix naming what is special about this capture. */
  what?: string;
}

/** In order of importance: the parser engineer needs the first two most. */
const CAPTURES: Capture[] = [
  { kernel: 'bookworm-6.1', firmware: 'seabios-bookworm', machine: 'q35', topology: 'two-node' },
  { kernel: 'sid-7.2', firmware: 'seabios-bookworm', machine: 'q35', topology: 'two-node' },
  { kernel: 'bookworm-6.1', firmware: 'ovmf-sid', machine: 'q35', topology: 'two-node' },
  { kernel: 'trixie-6.12', firmware: 'seabios-bookworm', machine: 'q35', topology: 'two-node' },
  { kernel: 'bookworm-6.1', firmware: 'seabios-bookworm', machine: 'pc', topology: 'two-node' },
  { kernel: 'bookworm-6.1', firmware: 'seabios-bookworm', machine: 'q35', topology: 'one-node' },
  { kernel: 'bookworm-6.1', firmware: 'seabios-bookworm', machine: 'q35', topology: 'two-node', append: [MEMMAP_SOFT_RESERVED], what: 'cmdline-memmap-soft-reserved' },
  { kernel: 'sid-7.2', firmware: 'seabios-bookworm', machine: 'q35', topology: 'two-node', append: [MEMMAP_SOFT_RESERVED], what: 'cmdline-memmap-soft-reserved' },
  { kernel: 'sid-7.2', firmware: 'ovmf-sid', machine: 'q35', topology: 'two-node' },
  { kernel: 'bookworm-6.1', firmware: 'ovmf-trixie', machine: 'q35', topology: 'two-node' },
  { kernel: 'bookworm-6.1', firmware: 'seabios-sid', machine: 'q35', topology: 'two-node' },
];

/** What index.json records per fixture; README.md is generated from it. */
interface FixtureRecord {
  file: string;
  kernel: { id: string; package: string; version: string; release: string };
  firmware: { id: string; package: string; version: string };
  machine: string;
  topology: string;
  append: string[];
  qemu: { path: string; version: string };
  /** The QEMU command line, with the cache root shown as <cache>. */
  args: string[];
  capturedAt: string;
  durationMs: number;
  exitCode: number | null;
  sha256: string;
}

export function fixtureName(c: Capture): string {
  return `${[c.kernel, c.firmware, c.machine, c.topology, c.what].filter(Boolean).join('-')}.log`;
}

const USAGE = `usage: npx tsx scripts/capture-fixtures.ts [--qemu PATH] [--out DIR] [--only FILE]... [--timeout SECONDS] [--list] [--readme]

Boots each capture (kernel, firmware, machine, topology) once with the probe
initramfs and saves the raw serial output as <out>/<name>.log.

  --qemu PATH        qemu-system-x86_64 to run (default: the cached unpatched build, built if missing)
  --out DIR          fixture directory (default test/fixtures/serial)
  --only NAME        capture only this fixture (file name, with or without .log); repeatable
  --timeout SECONDS  per boot (default 120)
  --list             print the fixture names and exit
  --readme           only regenerate README.md from index.json`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      qemu: { type: 'string' },
      out: { type: 'string', default: DEFAULT_OUT },
      only: { type: 'string', multiple: true },
      timeout: { type: 'string', default: '120' },
      list: { type: 'boolean', default: false },
      readme: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return console.log(USAGE), 0;
  if (values.list) return console.log(CAPTURES.map(fixtureName).join('\n')), 0;
  if (values.readme) return await writeReadme(resolve(values.out), await readIndex(resolve(values.out))), 0;
  const timeoutMs = Number(values.timeout) * 1000;
  if (!(timeoutMs > 0)) throw new HarnessError(`--timeout must be a positive number of seconds, not '${values.timeout}'`);
  const only = (values.only ?? []).map((n) => (n.endsWith('.log') ? n : `${n}.log`));
  const unknown = only.filter((n) => !CAPTURES.some((c) => fixtureName(c) === n));
  if (unknown.length > 0) throw new HarnessError(`unknown fixture ${unknown.join(', ')}`, 'see --list');
  const selected = CAPTURES.filter((c) => only.length === 0 || only.includes(fixtureName(c)));
  const qemuPath = values.qemu ? resolve(values.qemu) : (await ensureQemu({ patches: null })).manifest.binary;
  const qemu = { path: qemuPath, version: await qemuVersion(qemuPath) };
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });

  let failures = 0;
  for (const capture of selected) {
    const record = await captureOne(capture, qemu, out, timeoutMs).catch((error: unknown) => {
      console.error(`${fixtureName(capture)}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
    if (!record) failures += 1;
    else await updateIndex(out, record);
  }
  console.log(`${selected.length - failures} captured, ${failures} failed`);
  return failures === 0 ? 0 : 1;
}

async function captureOne(c: Capture, qemu: FixtureRecord['qemu'], out: string, timeoutMs: number): Promise<FixtureRecord> {
  const file = fixtureName(c);
  // The kernel first: the initramfs needs it, and two cold ensures would both download it.
  const kernel = await ensureKernel(c.kernel);
  const [initrd, firmware] = await Promise.all([ensureInitramfs(c.kernel), ensureFirmware(c.firmware)]);
  const result = await withDir(
    ({ path: runDir }) =>
      bootGuest({
        qemu: qemu.path, kernel, initrd, firmware, runDir, machine: c.machine, timeoutMs,
        topology: c.topology === 'two-node' ? SEED_TWO_NODES : ONE_NODE,
        append: c.append ?? [],
      }),
    { unsafeCleanup: true },
  );
  const seconds = (result.durationMs / 1000).toFixed(1);
  if (!result.guestDone) {
    const aside = join(out, `${file.replace(/\.log$/, '')}.failed.log.tmp`);
    await writeFile(aside, result.serial);
    const why = result.timedOut ? `timed out after ${timeoutMs / 1000} s` : `QEMU exited ${result.exitCode}: ${result.stderr.trim().split('\n').pop() ?? ''}`;
    throw new Error(`no probe-done marker (${why}); serial kept in ${aside}`);
  }
  // Written aside and renamed, so a fixture is never half a log.
  await writeFile(join(out, `${file}.tmp`), result.serial);
  await rename(join(out, `${file}.tmp`), join(out, file));
  console.log(`${file}: ${seconds} s, ${result.serial.length} bytes`);
  const cache = cacheRoot();
  return {
    file,
    kernel: { id: kernel.id, package: kernel.image.name, version: kernel.image.version, release: kernel.release },
    firmware: { id: firmware.id, package: firmware.package.name, version: firmware.package.version },
    machine: c.machine,
    topology: c.topology,
    append: c.append ?? [],
    qemu,
    args: result.args.map((a) => a.split(cache).join('<cache>')),
    capturedAt: new Date().toISOString(),
    durationMs: result.durationMs,
    exitCode: result.exitCode ?? null,
    sha256: sha256(result.serial),
  };
}

async function qemuVersion(qemu: string): Promise<string> {
  const { stdout } = await execa(qemu, ['--version'], { timeout: 30_000 }).catch(() => {
    throw new HarnessError(`cannot run ${qemu}`, 'pass --qemu with a built qemu-system-x86_64');
  });
  return stdout.split('\n')[0] ?? stdout;
}

async function readIndex(out: string): Promise<FixtureRecord[]> {
  return readFile(join(out, 'index.json'), 'utf8').then((t) => JSON.parse(t) as FixtureRecord[], () => [] as FixtureRecord[]);
}

async function updateIndex(out: string, record: FixtureRecord): Promise<void> {
  const order = CAPTURES.map(fixtureName);
  const merged = [...(await readIndex(out)).filter((r) => r.file !== record.file), record].sort((a, b) => order.indexOf(a.file) - order.indexOf(b.file));
  await writeFile(join(out, 'index.json'), `${JSON.stringify(merged, null, 2)}\n`);
  await writeReadme(out, merged);
}

async function writeReadme(out: string, records: FixtureRecord[]): Promise<void> {
  await writeFile(join(out, 'README.md'), readme(records));
}

function readme(records: FixtureRecord[]): string {
  const rows = records.map(
    (r) => `| \`${r.file}\` | ${r.kernel.package} ${r.kernel.version} | ${r.firmware.package} ${r.firmware.version} (${r.firmware.id}) | ${r.machine} | ${r.topology} | ${r.append.map((a) => `\`${a}\``).join(' ') || '-'} | ${(r.durationMs / 1000).toFixed(1)} s | ${r.capturedAt.slice(0, 10)} |`,
  );
  const commands = records.map((r) => `### ${r.file}\n\n${r.qemu.version} (\`${r.qemu.path}\`), captured ${r.capturedAt}, QEMU exit ${r.exitCode}, sha256 \`${r.sha256.slice(0, 16)}…\`\n\n\`\`\`\n${r.qemu.path} ${r.args.map(shellQuote).join(' ')}\n\`\`\``);
  return `# Serial-log fixtures

Raw serial output (QEMU \`-chardev file\`) of real guests booted under TCG by
\`scripts/capture-fixtures.ts\`: byte for byte, CRLF line ends included, and
under OVMF the ANSI escape sequences the firmware writes before the kernel
starts (SeaBIOS wrote nothing to the serial port with this command line:
\`-nodefaults\`, no VGA). Under OVMF the kernel's command line also starts
with \`initrd=initrd\` (added by the EFI stub). Do not edit them; recapture with \`npx tsx scripts/capture-fixtures.ts [--only NAME] [--qemu PATH]\`.
\`index.json\` holds the same facts in machine-readable form.

The guest is the guest initramfs (\`images/guest/init\`, busybox-static): its
sections are framed \`==== memmap-harness: begin <section> ====\` …
\`==== memmap-harness: end <section> ====\` (iomem, firmware-memmap,
node-meminfo, dax, cmdline), then \`==== memmap-harness: probe done ====\`.

Names are \`<kernel>-<firmware>-<machine>-<topology>[-<what>].log\`.
\`two-node\` is the seed's layout (16 GiB, 8 vCPUs, node 0 = 8 GiB RAM backend
with cpus 0-3, node 1 = 8 GiB memfd backend with cpus 4-7); \`one-node\` is
\`-m 16G -smp 8\` without any \`-numa\`.

Files ending \`-cmdline-memmap-soft-reserved\` were made by an **unpatched**
QEMU: the guest kernel itself was told \`${MEMMAP_SOFT_RESERVED}\` on its
command line (node 1's range, type 1 → 0xefffffff). So the firmware's
\`BIOS-e820\` lines and /sys/firmware/memmap still say RAM; the soft-reserved
type shows in the kernel's \`user:\` map lines, in /proc/iomem and as a dax
device. What a patched QEMU plus a passing firmware (OVMF 2026.08) gives
differs: there the \`BIOS-e820\` line itself says \`soft reserved\`.

Paths under \`<cache>\` are in the harness cache
(\`$XDG_CACHE_HOME/memmap-harness\`). QEMU's stdout (the serial port) was a
regular file: through a pipe, QEMU drops bytes when the reader lags.

| file | kernel | firmware | machine | topology | extra cmdline | boot time | date |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

## Command lines

${commands.join('\n\n')}
`;
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=,:@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof HarnessError)) throw error;
  console.error(`capture-fixtures: ${error.oneLine()}`);
  process.exitCode = 1;
}
