/**
 * Kconfig `.config` text: parsing, applying a fragment on top of a base
 * config, and checking that what a fragment asks for made it into the result.
 * `make olddefconfig` silently drops an option whose dependencies are off, so
 * the check is what turns "the guest program finds no dax device" into a build error.
 */

/** Option name without the `CONFIG_` prefix → value as written: `y`, `m`, `n` (for "is not set"), a number or a quoted string. */
export type KernelConfig = Map<string, string>;

/** One option that did not end up with the wanted value; `actual` is undefined when the option is absent. */
export interface ConfigMismatch {
  option: string;
  wanted: string;
  actual: string | undefined;
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;

/** Parses `.config` or fragment text; later lines win, as in Kconfig. Comments and blank lines are skipped. */
export function parseKernelConfig(text: string): KernelConfig {
  const config: KernelConfig = new Map();
  for (const raw of text.split('\n')) {
    const entry = parseLine(raw.trim());
    if (entry) config.set(entry[0], entry[1]);
  }
  return config;
}

function parseLine(line: string): [string, string] | undefined {
  const set = SET.exec(line);
  if (set?.[1] !== undefined && set[2] !== undefined) return [set[1], set[2]];
  const notSet = NOT_SET.exec(line);
  if (notSet?.[1] !== undefined) return [notSet[1], 'n'];
  return undefined;
}

/** The line Kconfig writes for an option. */
export function configLine(option: string, value: string): string {
  return value === 'n' ? `# CONFIG_${option} is not set` : `CONFIG_${option}=${value}`;
}

/**
 * `base` with every option of `fragment` set to the fragment's value: lines of
 * the base that name such an option are replaced in place, the others are
 * appended. The result is meant for `make olddefconfig`.
 */
export function applyFragment(base: string, fragment: KernelConfig): string {
  const pending = new Map(fragment);
  const lines = base.split('\n').map((raw) => {
    const option = parseLine(raw.trim())?.[0];
    if (option === undefined || !pending.has(option)) return raw;
    const value = pending.get(option) ?? 'n';
    pending.delete(option);
    return configLine(option, value);
  });
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const [option, value] of pending) lines.push(configLine(option, value));
  return `${lines.join('\n')}\n`;
}

/** Every wanted option whose value in `config` differs; an absent option counts as `n`. */
export function checkKernelConfig(config: KernelConfig, wanted: KernelConfig): ConfigMismatch[] {
  const mismatches: ConfigMismatch[] = [];
  for (const [option, value] of wanted) {
    const actual = config.get(option);
    if ((actual ?? 'n') !== value) mismatches.push({ option, wanted: value, actual });
  }
  return mismatches;
}

/** `DEV_DAX_HMEM (wanted y, is not set), NR_CPUS (wanted 64, got 8)`: one line for an error message. */
export function describeMismatches(mismatches: readonly ConfigMismatch[]): string {
  return mismatches
    .map((m) => `${m.option} (wanted ${m.wanted}, ${m.actual === undefined ? 'absent' : m.actual === 'n' ? 'is not set' : `got ${m.actual}`})`)
    .join(', ');
}
