// Where a case's time goes (a script, not a test: the machine is shared and
// noisy). Runs the case once through the harness for its exact QEMU command
// line, then boots that command line again N times without QMP (-S dropped),
// the serial console on a pipe, each line stamped with the host's clock, and
// prints the phases: QEMU, firmware, decompression and whatever the kernel did
// before its clock started (host time), then the kernel's own clock for memory
// set-up and early init, CPU bring-up and initcalls, then the probe from /init
// to its end marker (host time), beside the harness's own duration for the case.
// Usage: npx tsx scripts/profile-boot.ts [--case NAME] [--firmware ID] [--kernel ID] [--runs N] [--append TEXT] [--plain-initrd]
//   --plain-initrd  also boot each time with the same initramfs uncompressed (turn about with the
//                   gzip'd one, so both see the same load) and print both columns
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { loadCase } from '../harness/case/load.ts';
import { resolveQemu } from '../harness/run/resolve-qemu.ts';
import { runCase } from '../harness/run/run-case.ts';
import { GUEST_DONE } from '../harness/util/constants.ts';
import { REPO_ROOT } from '../harness/util/paths.ts';

const { values } = parseArgs({
  options: { case: { type: 'string' }, firmware: { type: 'string' }, kernel: { type: 'string' }, runs: { type: 'string' }, append: { type: 'string' }, 'plain-initrd': { type: 'boolean' } },
});
const runs = Number(values.runs ?? 3);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive whole number, not '${values.runs}'`);

/** A console line and the host's clock (seconds since QEMU was started) when it arrived. */
interface StampedLine {
  at: number;
  text: string;
}

/** The kernel's clock on a console line (`[    1.234567] …`), in seconds. */
function kernelClock(text: string): number | undefined {
  const match = /^\[\s*(\d+\.\d+)\]/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The case's command line made to run alone: no QMP, not stopped at start, the serial console on stdout. */
export function standaloneArgv(argv: readonly string[], append: string | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = argv[i + 1] ?? '';
    if (arg === '-S') continue;
    if ((arg === '-chardev' && value.includes('id=qmp')) || (arg === '-mon' && value.includes('chardev=qmp'))) {
      i += 1;
      continue;
    }
    if (arg === '-chardev' && value.includes('id=serial0')) {
      out.push(arg, 'stdio,id=serial0,signal=off');
      i += 1;
      continue;
    }
    if (arg === '-append' && append) {
      out.push(arg, `${value} ${append}`);
      i += 1;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** The command line with its -initrd replaced by the same archive gunzipped into `dir`. */
async function withPlainInitrd(argv: readonly string[], dir: string): Promise<string[]> {
  const at = argv.indexOf('-initrd');
  if (at < 0) throw new Error('the case boots without -initrd');
  const plain = join(dir, 'initrd.cpio');
  await writeFile(plain, gunzipSync(await readFile(argv[at + 1] as string)));
  return argv.map((arg, i) => (i === at + 1 ? plain : arg));
}

/** Boots once; the stamped console lines up to the probe's end marker (QEMU is killed there, as the harness stops it). */
async function bootStamped(argv: readonly string[]): Promise<StampedLine[]> {
  const [binary, ...args] = argv;
  const started = performance.now();
  const qemu = execa(binary as string, args, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', reject: false, timeout: 180_000 });
  const lines: StampedLine[] = [];
  try {
    for await (const text of createInterface({ input: qemu.stdout })) {
      lines.push({ at: (performance.now() - started) / 1000, text });
      if (text === GUEST_DONE) break;
    }
  } finally {
    qemu.kill('SIGKILL');
  }
  const result = await qemu;
  if (lines.at(-1)?.text !== GUEST_DONE) {
    throw new Error(`the guest did not reach '${GUEST_DONE}' (last line: ${lines.at(-1)?.text ?? 'none'}; QEMU: ${result.stderr.trim().split('\n').at(-1) ?? ''})`);
  }
  return lines;
}

/** The phases of one boot, in seconds. */
function phases(lines: readonly StampedLine[]): Array<[string, number]> {
  const find = (pattern: RegExp) => lines.find((l) => pattern.test(l.text));
  const clockOf = (pattern: RegExp, what: string) => {
    const t = kernelClock(find(pattern)?.text ?? '');
    if (t === undefined) throw new Error(`no kernel line for ${what} (${pattern})`);
    return t;
  };
  const consoleUp = lines.find((l) => /printk: console \[ttyS0\] enabled/.test(l.text)) ?? lines.find((l) => kernelClock(l.text) !== undefined);
  const consoleClock = kernelClock(consoleUp?.text ?? '') ?? 0;
  const cpu0 = clockOf(/smpboot: CPU0: /, 'the boot CPU');
  const smp = clockOf(/smp: Brought up /, 'CPU bring-up');
  const init = clockOf(/Run \/init as init process/, '/init');
  const initLine = find(/Run \/init as init process/);
  const done = lines.at(-1) as StampedLine;
  return [
    // Under TCG the kernel's clock may start late (every early line at 0.000000): what comes before it counts here.
    ['QEMU start, firmware, decompression, early kernel (host)', (consoleUp?.at ?? 0) - consoleClock],
    ['kernel: memory set-up and early init, to the boot CPU', cpu0],
    ['kernel: bring-up of the other CPUs', smp - cpu0],
    ['kernel: initcalls to /init', init - smp],
    ['probe: /init to its end marker (host)', done.at - (initLine?.at ?? done.at)],
    ['total, QEMU start to the end marker (host)', done.at],
  ];
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;

const spec = await loadCase(join(REPO_ROOT, 'cases', `${values.case ?? 'seed-spm'}.json`));
const firmware = values.firmware ?? 'qboot';
const kernel = values.kernel ?? spec.kernel;
const qemu = await resolveQemu({});
const logDir = await mkdtemp(join(tmpdir(), 'memmap-profile-'));
try {
  const verdict = await runCase(spec, { qemu, logDir, firmware, kernel });
  const argv = verdict.provenance?.qemuArgv;
  if (!argv) throw new Error(`${spec.name}: the harness did not start QEMU (${verdict.status}: ${verdict.reason ?? ''})`);
  console.log(`${spec.name} on ${firmware}/${kernel}, QEMU ${qemu.label}: harness ${verdict.status} in ${(verdict.durationMs / 1000).toFixed(1)} s; load average ${loadavg()[0]?.toFixed(1)}`);
  const p = verdict.phases;
  if (p) console.log(`  the harness's phases: QEMU start ${s(p.startMs)}, QMP ${s(p.qmpMs)}, guest ${s(p.guestMs)}, stop ${s(p.stopMs)}, the rest (checks, files) ${s(verdict.durationMs - p.startMs - p.qmpMs - p.guestMs - p.stopMs)}`);
  const standalone = standaloneArgv(argv, values.append);
  const variants: Array<[string, string[]]> = [['as built', standalone]];
  if (values['plain-initrd']) variants.push(['initramfs uncompressed', await withPlainInitrd(standalone, logDir)]);
  const tables = variants.map(() => new Map<string, number[]>());
  for (let i = 0; i < runs; i++) {
    for (const [v, [, variantArgv]] of variants.entries()) {
      for (const [name, seconds] of phases(await bootStamped(variantArgv))) tables[v]?.set(name, [...(tables[v]?.get(name) ?? []), seconds]);
    }
  }
  for (const [v, [label]] of variants.entries()) {
    console.log(`phases (${label}), median of ${runs} boot(s) of the same command line without QMP${values.append ? ` (+ '${values.append}')` : ''}:`);
    for (const [name, seconds] of tables[v] ?? []) console.log(`  ${name.padEnd(58)} ${median(seconds).toFixed(2)} s  (${seconds.map((s) => s.toFixed(2)).join(' ')})`);
  }
  console.log(`load average ${loadavg()[0]?.toFixed(1)} at the end`);
} finally {
  await rm(logDir, { recursive: true, force: true });
}
