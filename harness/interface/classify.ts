import { parseQemuVersion } from '../qemu-build/steps.ts';
import type { RevisionProfile } from '../traits/profiles.ts';
import { lastMeaningfulLine } from '../util/subprocess.ts';
import type { ProbeName, ProbeRun } from './probe-runs.ts';

/**
 * Which memory interface a QEMU implements, judged by behaviour:
 * - memmap-type: `absent` (QEMU refuses the -numa parameter itself), `v5-like`
 *   (accepted with and without memdev), `v6-like` (accepted with memdev, refused
 *   without it by a message about memdev), `present` (accepted, but the memdev
 *   rule could not be told), `undetermined`;
 * - sp-mem: whether `-device help` lists the `sp-mem` device (QEMU >= 11.1).
 */
export type MemmapTypeInterface = 'absent' | 'v5-like' | 'v6-like' | 'present' | 'undetermined';
export type SpMemInterface = 'present' | 'absent' | 'undetermined';

/** What one probe showed, in one line. */
export interface Evidence {
  probe: ProbeName;
  observed: string;
}

/** The classification of one binary, with the evidence for it. */
export interface InterfaceReport {
  qemu: string;
  /** From `--version`, e.g. "11.1.3". */
  qemuVersion: string | undefined;
  interfaces: { memmapType: MemmapTypeInterface; spMem: SpMemInterface };
  /** The classes in words, e.g. "memmap-type requiring memdev (v6-like) + -device sp-mem". */
  summary: string;
  /** The revision profile (harness/traits/traits.json id) the behaviour matches; undefined when it cannot be told. */
  profile: string | undefined;
  profileReason: string;
  evidence: Evidence[];
}

/** How a dry start (paused q35, quit over QMP) ended. */
export type DryStart = { kind: 'accepted' } | { kind: 'refused'; message: string } | { kind: 'failed'; message: string };

/** Facts read from `query-qmp-schema`; undefined where the schema did not say. */
export interface SchemaFacts {
  /** Members of -numa node's options (the `node` branch of set-numa-node's argument). */
  numaNodeMembers: string[] | undefined;
  /** Values of the memmap-type member's enum, when there is one. */
  memmapTypeValues: string[] | undefined;
  /** Kinds query-memory-devices can report (11.1 adds `sp-mem`). */
  memoryDeviceKinds: string[] | undefined;
}

const UNKNOWN_PARAMETER = /(invalid|unknown|unexpected) parameter '?memmap-type'?/i;

/** Classifies the probe runs of one binary; `profiles` are the revision profiles to match the behaviour to. */
export function classifyInterfaces(qemu: string, runs: readonly ProbeRun[], profiles: readonly RevisionProfile[]): InterfaceReport {
  const byName = new Map(runs.map((r) => [r.probe, r]));
  const evidence = runs.map((r) => ({ probe: r.probe, observed: describeRun(r) }));
  const schema = schemaOf(byName.get('qmp-schema'));
  const memmapType = memmapTypeFrom(byName.get('memmap-type-with-memdev'), byName.get('memmap-type-without-memdev'), schema);
  const spMem = spMemFrom(byName.get('device-help'));
  const spMemLacks = spMem === 'present' ? missingSpMemProperties(byName.get('sp-mem-properties')) : [];
  const version = byName.get('version');
  const qemuVersion = version?.exitCode === 0 ? parseQemuVersion(version.stdout) : undefined;
  const { profile, reason } = matchProfile(memmapType, spMem, profiles);
  return { qemu, qemuVersion, interfaces: { memmapType, spMem }, summary: summarize(memmapType, spMem, spMemLacks), profile, profileReason: reason, evidence };
}

/** Whether the runner should go on to the memdev probe: only when memmap-type was accepted on a memdev node. */
export function acceptsMemmapType(run: ProbeRun | undefined): boolean {
  return run !== undefined && dryStart(run).kind === 'accepted';
}

/** Whether `-device help` listed sp-mem (the runner then asks for its properties). */
export function listsSpMem(run: ProbeRun | undefined): boolean {
  return run?.exitCode === 0 && deviceNames(run.stdout).includes('sp-mem');
}

/** A dry start's outcome: accepted when QEMU exited 0 after answering the quit; refused when it exited non-zero on its own. */
export function dryStart(run: ProbeRun): DryStart {
  if (run.exitCode === undefined) return { kind: 'failed', message: run.failure ?? 'did not finish' };
  const quitAnswered = /"event":\s*"SHUTDOWN"/.test(run.stdout) || (run.stdout.match(/"return"/g)?.length ?? 0) >= 2;
  if (run.exitCode === 0) return quitAnswered ? { kind: 'accepted' } : { kind: 'failed', message: 'exited 0 without answering the QMP quit' };
  return { kind: 'refused', message: errorLine(run.stderr) ?? `exit code ${run.exitCode}, no error output` };
}

/** Device names from `-device help` (lines `name "sp-mem", desc "…"`). */
export function deviceNames(stdout: string): string[] {
  return [...stdout.matchAll(/^name "([^"]+)"/gm)].map((m) => m[1] ?? '');
}

/** Property names from `-device NAME,help` (lines `  memdev=<link<memory-backend>>`). */
export function deviceProperties(stdout: string): string[] {
  return [...stdout.matchAll(/^\s+([a-z0-9_-]+)=</gim)].map((m) => m[1] ?? '');
}

/** The facts the classifier needs from a query-qmp-schema transcript (QMP lines on stdout). */
export function schemaFacts(stdout: string): SchemaFacts {
  const schema = schemaEntries(stdout);
  if (!schema) return { numaNodeMembers: undefined, memmapTypeValues: undefined, memoryDeviceKinds: undefined };
  const byName = new Map(schema.map((e) => [e.name, e]));
  const node = unionBranch(byName, byName.get('set-numa-node')?.['arg-type'], 'node');
  const memmapMember = node?.members?.find((m) => m.name === 'memmap-type');
  const memmapEnum = memmapMember ? byName.get(memmapMember.type ?? '') : undefined;
  const devicesReturn = byName.get(byName.get('query-memory-devices')?.['ret-type'] ?? '');
  const deviceInfo = byName.get(devicesReturn?.['element-type'] ?? '');
  return {
    numaNodeMembers: node?.members?.map((m) => m.name),
    memmapTypeValues: memmapEnum?.values,
    memoryDeviceKinds: deviceInfo?.variants?.map((v) => v.case),
  };
}

/** One entry of query-qmp-schema's answer (only the fields read here). */
interface SchemaEntry {
  name: string;
  'meta-type'?: string;
  'arg-type'?: string;
  'ret-type'?: string;
  'element-type'?: string;
  members?: { name: string; type?: string }[];
  variants?: { case: string; type: string }[];
  values?: string[];
}

function schemaEntries(stdout: string): SchemaEntry[] | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.includes('"meta-type"')) continue;
    const parsed = parseJsonLine(line);
    if (Array.isArray(parsed?.return)) return parsed.return as SchemaEntry[];
  }
  return undefined;
}

function parseJsonLine(line: string): { return?: unknown } | undefined {
  try {
    return JSON.parse(line) as { return?: unknown };
  } catch {
    return undefined;
  }
}

/** The object type of one branch of a union (masked names are followed, never guessed). */
function unionBranch(byName: Map<string, SchemaEntry>, union: string | undefined, branch: string): SchemaEntry | undefined {
  const type = byName.get(union ?? '')?.variants?.find((v) => v.case === branch)?.type;
  return type === undefined ? undefined : byName.get(type);
}

function schemaOf(run: ProbeRun | undefined): SchemaFacts | undefined {
  if (run?.exitCode !== 0) return undefined;
  const facts = schemaFacts(run.stdout);
  return facts.numaNodeMembers === undefined ? undefined : facts;
}

function memmapTypeFrom(withMemdev: ProbeRun | undefined, withoutMemdev: ProbeRun | undefined, schema: SchemaFacts | undefined): MemmapTypeInterface {
  const inSchema = schema?.numaNodeMembers?.includes('memmap-type');
  if (!withMemdev) return 'undetermined';
  const first = dryStart(withMemdev);
  if (first.kind === 'refused' && UNKNOWN_PARAMETER.test(errorText(first.message))) return inSchema === true ? 'undetermined' : 'absent';
  if (first.kind !== 'accepted') return inSchema === false ? 'absent' : 'undetermined';
  if (!withoutMemdev) return 'present';
  const second = dryStart(withoutMemdev);
  if (second.kind === 'accepted') return 'v5-like';
  if (second.kind === 'refused' && /memdev/i.test(errorText(second.message))) return 'v6-like';
  return 'present';
}

/** QEMU's error line (`qemu-system-x86_64: …`), not a warning before it nor the hint lines after it; else the last line it wrote. */
export function errorLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim());
  return lines.find((l) => QEMU_PREFIX.test(l) && !/^\S+: warning: /.test(l)) ?? lastMeaningfulLine(stderr);
}

const QEMU_PREFIX = /^\S*qemu\S*: /;

/**
 * QEMU's error without its location prefix: `qemu-system-x86_64: -numa node,…,memdev=m0: Invalid …`
 * echoes the option, which may itself say memdev or memmap-type.
 */
export function errorText(line: string): string {
  return line.replace(QEMU_PREFIX, '').replace(/^-[a-z-]+ \S+: /, '');
}

function spMemFrom(deviceHelp: ProbeRun | undefined): SpMemInterface {
  if (deviceHelp?.exitCode !== 0 || deviceNames(deviceHelp.stdout).length === 0) return 'undetermined';
  return deviceNames(deviceHelp.stdout).includes('sp-mem') ? 'present' : 'absent';
}

const MEMMAP_WORDS: Record<MemmapTypeInterface, string> = {
  absent: 'no memmap-type',
  'v5-like': 'memmap-type without the memdev requirement (v5-like)',
  'v6-like': 'memmap-type requiring memdev (v6-like)',
  present: 'memmap-type (memdev requirement undetermined)',
  undetermined: 'memmap-type undetermined',
};

/** The properties 11.1's sp-mem has that this one lacks (its help did not list them); [] when it has them all. */
function missingSpMemProperties(run: ProbeRun | undefined): string[] {
  const listed = run?.exitCode === 0 ? deviceProperties(run.stdout) : [];
  return SP_MEM_PROPERTIES.filter((p) => !listed.includes(p));
}

const SP_MEM_PROPERTIES = ['memdev', 'node'];

function summarize(memmapType: MemmapTypeInterface, spMem: SpMemInterface, spMemLacks: readonly string[]): string {
  const lacking = spMemLacks.length > 0 ? ` (its help lists no ${spMemLacks.join('/')})` : '';
  const spMemWords = spMem === 'present' ? ` + -device sp-mem${lacking}` : spMem === 'undetermined' ? ' (sp-mem undetermined)' : '';
  return `${MEMMAP_WORDS[memmapType]}${spMemWords}`;
}

/**
 * The profile whose memmap-type flags the behaviour shows, preferring one that
 * also says the same about sp-mem (upstream-11.1 over baseline for a QEMU with
 * sp-mem); reservedLeavesSrat is not probed (it needs a boot) and comes with the profile.
 */
function matchProfile(memmapType: MemmapTypeInterface, spMem: SpMemInterface, profiles: readonly RevisionProfile[]): { profile: string | undefined; reason: string } {
  const wanted = { absent: [false, false], 'v5-like': [true, false], 'v6-like': [true, true] } as const;
  if (memmapType === 'present' || memmapType === 'undetermined') {
    const note = spMem === 'present' ? '; it also has -device sp-mem' : '';
    return { profile: undefined, reason: `the probes could not tell the memmap-type revision (${MEMMAP_WORDS[memmapType]})${note}; give --profile` };
  }
  const [supported, needsMemdev] = wanted[memmapType];
  const byMemmap = profiles.filter((p) => p.memmapTypeSupported === supported && (!supported || p.memmapNeedsMemdev === needsMemdev));
  const spMemSeen = spMem === 'undetermined' ? undefined : spMem === 'present';
  const bySpMem = byMemmap.find((p) => spMemSeen === undefined || p.spMemSupported === undefined || p.spMemSupported === spMemSeen);
  const found = bySpMem ?? byMemmap[0];
  const spMemNote = spMem === 'present' ? (bySpMem ? ' and has -device sp-mem' : `; it also has -device sp-mem, which ${found ? `profile ${found.id}` : 'no revision profile'} does not describe`) : '';
  const behaviour = {
    absent: 'QEMU refuses -numa node,memmap-type as an unknown parameter',
    'v5-like': 'QEMU accepts memmap-type on a memdev node and on a node without memdev',
    'v6-like': 'QEMU accepts memmap-type on a memdev node and refuses it, naming memdev, on a node without memdev',
  }[memmapType];
  if (!found) return { profile: undefined, reason: `${behaviour}, and no revision profile describes that${spMemNote}; give --profile` };
  return { profile: found.id, reason: `${behaviour}${spMemNote}` };
}

/** One line per probe run, for the report and the evidence list. */
export function describeRun(run: ProbeRun): string {
  if (run.exitCode === undefined) return `did not finish: ${run.failure ?? 'unknown reason'}`;
  switch (run.probe) {
    case 'version':
      return run.exitCode === 0 ? (run.stdout.split('\n')[0]?.trim() ?? '') : exitLine(run);
    case 'device-help':
      return run.exitCode === 0 ? describeDeviceList(run.stdout) : exitLine(run);
    case 'sp-mem-properties':
      return run.exitCode === 0 ? `sp-mem properties: ${deviceProperties(run.stdout).join(', ') || '(none)'}` : exitLine(run);
    case 'qmp-schema':
      return run.exitCode === 0 ? describeSchema(schemaFacts(run.stdout)) : exitLine(run);
    case 'memmap-type-with-memdev':
    case 'memmap-type-without-memdev':
      return describeDryStart(dryStart(run), run.exitCode);
  }
}

function describeDeviceList(stdout: string): string {
  const names = deviceNames(stdout);
  const spMem = /^name "sp-mem".*$/m.exec(stdout)?.[0];
  return `${names.length} devices; ${spMem ? `lists ${spMem}` : 'no sp-mem'}`;
}

function describeSchema(facts: SchemaFacts): string {
  if (facts.numaNodeMembers === undefined) return 'no set-numa-node node options in the schema';
  const memmap = facts.memmapTypeValues ? `memmap-type (${facts.memmapTypeValues.join('|')})` : 'no memmap-type';
  const kinds = facts.memoryDeviceKinds ? `; query-memory-devices kinds: ${facts.memoryDeviceKinds.join(', ')}` : '';
  return `NumaNodeOptions: ${facts.numaNodeMembers.join(', ')} — ${memmap}${kinds}`;
}

function describeDryStart(outcome: DryStart, exitCode: number): string {
  if (outcome.kind === 'accepted') return 'accepted: QEMU started paused and quit over QMP';
  return `${outcome.kind} (exit ${exitCode}): ${outcome.message}`;
}

function exitLine(run: ProbeRun): string {
  return `exit ${run.exitCode}: ${lastMeaningfulLine(run.stderr) ?? 'no error output'}`;
}
