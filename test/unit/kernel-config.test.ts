import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyFragment, checkKernelConfig, configLine, describeMismatches, parseKernelConfig } from '../../harness/image/kernel-config.ts';
import { MAKE_UNIT, makeProgress, parseKbuildStep, GUEST_MODULE_OPTIONS } from '../../harness/image/minimal-kernel.ts';
import { progressText, type BuildReporter } from '../../harness/host/progress.ts';

const fixture = (path: string) => readFile(fileURLToPath(new URL(path, import.meta.url)), 'utf8');
// A real .config of the minimal-6.1 build (trimmed: see its header) and the fragment it was built from.
const dotConfig = await fixture('../fixtures/kernel/minimal-6.1.config');
const fragment = parseKernelConfig(await fixture('../../images/kernel/minimal-6.1.config'));

describe('parseKernelConfig', () => {
  it('reads y/m, numbers, strings and "is not set" as n; skips comments', () => {
    const config = parseKernelConfig(dotConfig);
    expect(config.get('DEV_DAX_HMEM')).toBe('y');
    expect(config.get('NR_CPUS')).toBe('64');
    expect(config.get('CC_VERSION_TEXT')).toMatch(/^"gcc /);
    expect(config.get('MODULES')).toBe('n');
    expect(config.has('Automatically')).toBe(false);
  });

  it('lets a later line win, as Kconfig does', () => {
    expect(parseKernelConfig('CONFIG_A=y\n# CONFIG_A is not set\n').get('A')).toBe('n');
  });
});

describe('checkKernelConfig', () => {
  it('passes the real .config against the fragment it was built from', () => {
    expect(checkKernelConfig(parseKernelConfig(dotConfig), fragment)).toEqual([]);
  });

  it('names options that were dropped, absent or have another value', () => {
    const broken = dotConfig
      .replace('CONFIG_DEV_DAX_HMEM=y\n', '# CONFIG_DEV_DAX_HMEM is not set\n')
      .replace('CONFIG_ACPI_HMAT=y\n', '')
      .replace('CONFIG_NR_CPUS=64\n', 'CONFIG_NR_CPUS=8\n')
      .concat('CONFIG_MODULES=y\n');
    const mismatches = checkKernelConfig(parseKernelConfig(broken), fragment);
    expect(mismatches).toEqual([
      { option: 'NR_CPUS', wanted: '64', actual: '8' },
      { option: 'MODULES', wanted: 'n', actual: 'y' },
      { option: 'ACPI_HMAT', wanted: 'y', actual: undefined },
      { option: 'DEV_DAX_HMEM', wanted: 'y', actual: 'n' },
    ]);
    expect(describeMismatches(mismatches)).toBe(
      'NR_CPUS (wanted 64, got 8), MODULES (wanted n, got y), ACPI_HMAT (wanted y, absent), DEV_DAX_HMEM (wanted y, is not set)',
    );
  });

  it('counts an absent option as n', () => {
    expect(checkKernelConfig(new Map(), new Map([['MODULES', 'n']]))).toEqual([]);
  });

  it('covers every probe module with an option the fragment builds in', () => {
    for (const option of Object.values(GUEST_MODULE_OPTIONS)) expect(fragment.get(option)).toBe('y');
  });
});

describe('applyFragment', () => {
  const base = '#\n# comment\n#\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=5\n';

  it('replaces options in place, appends new ones, keeps the rest', () => {
    const merged = applyFragment(base, new Map([['B', 'y'], ['A', 'n'], ['D', '"x"']]));
    expect(merged).toBe('#\n# comment\n#\n# CONFIG_A is not set\nCONFIG_B=y\nCONFIG_C=5\nCONFIG_D="x"\n');
  });

  it('yields a config that passes the check for the same fragment', () => {
    expect(checkKernelConfig(parseKernelConfig(applyFragment(base, fragment)), fragment)).toEqual([]);
  });

  it('writes lines the way Kconfig does', () => {
    expect(configLine('X', 'n')).toBe('# CONFIG_X is not set');
    expect(configLine('X', 'm')).toBe('CONFIG_X=m');
  });
});

describe('make progress', () => {
  it('parses kbuild quiet lines and ignores the rest', () => {
    expect(parseKbuildStep('  CC      mm/page_alloc.o')).toEqual({ tool: 'CC', target: 'mm/page_alloc.o' });
    expect(parseKbuildStep('  HOSTCC  scripts/basic/fixdep')).toEqual({ tool: 'HOSTCC', target: 'scripts/basic/fixdep' });
    expect(parseKbuildStep('Kernel: arch/x86/boot/bzImage is ready  (#1)')).toBeUndefined();
    expect(parseKbuildStep('make[1]: Entering directory')).toBeUndefined();
  });

  it('counts kbuild steps only, and hands every count to the reporter', () => {
    const counts: number[] = [];
    const reporter: BuildReporter = { step() {}, progress: (done, total) => counts.push(done * 1000 + total), endProgress() {} };
    const onLine = makeProgress(reporter, 100);
    for (let i = 0; i < 3; i++) onLine(`  CC      f${i}.o`);
    onLine('some other line');
    expect(counts).toEqual([1100, 2100, 3100]);
  });

  it('prints the estimated total with a ~ and never 100 % before make is done', () => {
    expect(progressText(MAKE_UNIT, 155, 1550)).toBe('make [155/~1550] 10%');
    expect(progressText(MAKE_UNIT, 1700, 1550)).toBe('make [1700/~1550] 99%');
    expect(progressText({ tool: 'ninja' }, 1380, 1380)).toBe('ninja [1380/1380] 100%');
  });
});
