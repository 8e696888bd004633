import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa, type Result } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';
import { scaledMs } from '../../harness/util/timeouts.ts';

// The case runner as CI uses it: vitest itself, run on a temporary copy of
// seed-spm whose spm row is planted as `reserved`, with the github-actions,
// junit and json reporters at once. The failure must name the case file and
// the line of the wrong expectation; the child's temp dir shows what it left.
const VITEST = join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const PROJECT_MODULE = join(REPO_ROOT, 'harness', 'vitest', 'project.ts');

interface JsonReport {
  testResults: { name: string; assertionResults: { title: string; status: string; failureMessages: string[]; meta: { checks?: number; verdict?: string; reason?: string } }[] }[];
}

interface PlantedRun {
  casePath: string;
  /** Where `"e820"` stands under `expect` in the planted file (1-based). */
  e820At: { line: number; column: number };
  result: Result<{ reject: false }>;
  junit: string;
  json: JsonReport;
  childTmp: string;
}

let dir: string;
let run: PlantedRun;

describe('a case file run by vitest through the case runner', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'memmap-harness-case-runner-'));
    run = await runPlanted(dir);
  }, scaledMs(900_000));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fails, and the github-actions reporter annotates the case file at the wrong expectation', () => {
    expect(run.result.exitCode, run.result.stderr).toBe(1);
    const errors = run.result.stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(errors, `annotations:\n${errors.join('\n')}`).toHaveLength(1);
    const [annotation] = errors;
    expect(annotation).toContain(`::error file=${run.casePath},`);
    expect(annotation).toContain(`title=[cases] cases/seed-spm-planted.json > seed-spm-planted > v5 · ovmf-sid,line=${run.e820At.line},column=${run.e820At.column}::`);
    expect(annotation).toContain('~ changed type   [0x0000000280000000-0x000000047fffffff]: expected reserved (type 2), got soft reserved (type 0xEFFFFFFF)');
  });

  it('junit names the case file and the failing configuration; the baseline configuration passes', () => {
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(run.junit);
    const suite = xml.testsuites.testsuite;
    expect(suite.name).toBe('cases/seed-spm-planted.json');
    const cases = [suite.testcase].flat() as { name: string; failure?: unknown }[];
    expect(cases.map((c) => [c.name, c.failure !== undefined])).toEqual([
      ['seed-spm-planted > v5 · ovmf-sid', true],
      ['seed-spm-planted > baseline · ovmf-sid', false],
    ]);
  });

  it('json carries each configuration with its checks: every seed check ran on the patched build', () => {
    expect(run.json.testResults).toHaveLength(1);
    const file = item(run.json.testResults, 0);
    expect(file.name).toBe(run.casePath);
    expect(file.assertionResults).toHaveLength(2);
    const [v5, baseline] = [item(file.assertionResults, 0), item(file.assertionResults, 1)];
    expect([v5.title, v5.status, v5.meta.verdict]).toEqual(['v5 · ovmf-sid', 'failed', 'fail']);
    // e820, srat, the QMP memdevs and nodes, the guest's soft reserved, dax and MemTotal views.
    expect(v5.meta.checks).toBeGreaterThanOrEqual(6);
    expect(v5.failureMessages.join('\n')).toContain('serial log: ');
    expect([baseline.title, baseline.status, baseline.meta.verdict]).toEqual(['baseline · ovmf-sid', 'passed', 'unsupported']);
    expect(baseline.meta.reason).toMatch(/^unsupported, as expected: .*patch not applied/);
  });

  it("keeps only the failed run's serial log and the raw tables beside it, and no process of the run is left", async () => {
    const left = await readdir(run.childTmp);
    expect(left).toHaveLength(1);
    const logDir = item(left, 0);
    expect(logDir).toMatch(/^memmap-harness-cases-/);
    const stem = 'seed-spm-planted@v5.q35.ovmf-sid.minimal-6.1';
    // The minimal kernel reads etc/e820 and SRAT (no SLIT or HMAT on this layout): iasl -d works on the .dat files.
    expect((await readdir(join(run.childTmp, logDir))).sort()).toEqual([`${stem}.SRAT.dat`, `${stem}.fw_cfg-e820.dat`, `${stem}.serial.log`]);
    expect(processesMentioning(run.childTmp)).toEqual([]);
  });
});

// vitest's own selection on case files: two refusal cases (no guest boots:
// seconds each) whose wording is planted wrong, so every test that runs fails.
describe("vitest's filters, shards and bail apply to case files", () => {
  let selDir: string;
  let cases: Record<string, string>;
  const outcomes = async (args: readonly string[]) => {
    const jsonPath = join(selDir, `report-${args.join('_').replace(/[^\w=]/g, '')}.json`);
    const { result } = await vitestOnCases(selDir, cases, [...args, '--reporter=json', `--outputFile.json=${jsonPath}`]);
    expect(result.exitCode, result.stderr).toBe(1);
    const report = JSON.parse(await readFile(jsonPath, 'utf8')) as JsonReport;
    return report.testResults.flatMap((f) => f.assertionResults.map((t) => `${basename(f.name)} ${t.title}: ${t.status}`)).sort();
  };
  beforeAll(async () => {
    selDir = await mkdtemp(join(tmpdir(), 'memmap-harness-case-select-'));
    const bogus = await readFile(join(REPO_ROOT, 'cases', 'negative-memmap-type-bogus.json'), 'utf8');
    cases = Object.fromEntries(['a', 'b'].map((n) => [`planted-${n}.json`, bogus.replace('"negative-memmap-type-bogus"', `"planted-${n}"`).replaceAll("value 'bogus'\"", `value 'planted-${n}'"`)]));
  });
  afterAll(() => rm(selDir, { recursive: true, force: true }));

  it('-t and --shard pick tests and files', async () => {
    const ran = await outcomes(['--shard=2/2', '-t', 'v6']);
    expect(ran.filter((t) => !t.endsWith('skipped'))).toEqual(['planted-b.json v6 · seabios-bookworm: failed']);
  }, scaledMs(600_000));

  it('--bail=1 stops at the first failed test', async () => {
    const ran = await outcomes(['--bail=1']);
    expect(ran.filter((t) => t.endsWith('failed'))).toHaveLength(1);
    expect(ran.filter((t) => t.endsWith('passed'))).toEqual([]);
  }, scaledMs(600_000));
});

/** Writes the planted case and a config that uses the repository's cases project, and runs vitest on them. */
async function runPlanted(dir: string): Promise<PlantedRun> {
  const text = plantedCase(await readFile(join(REPO_ROOT, 'cases', 'seed-spm.json'), 'utf8'));
  const junitPath = join(dir, 'junit.xml');
  const jsonPath = join(dir, 'report.json');
  const reporters = ['--reporter=github-actions', '--reporter=junit', `--outputFile.junit=${junitPath}`, '--reporter=json', `--outputFile.json=${jsonPath}`];
  const { result, childTmp } = await vitestOnCases(dir, { 'seed-spm-planted.json': text }, reporters);
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes('"e820"')) + 1;
  const e820At = { line, column: item(lines, line - 1).indexOf('"e820"') + 1 };
  const [junit, json] = await Promise.all([readFile(junitPath, 'utf8'), readFile(jsonPath, 'utf8')]);
  return { casePath: join(dir, 'cases', 'seed-spm-planted.json'), e820At, result, junit, json: JSON.parse(json) as JsonReport, childTmp };
}

/**
 * Writes `cases` (file name → text) to `dir`/cases with a config that uses the
 * repository's cases project, and runs `vitest run` there with `args`, the
 * child's TMPDIR in `dir`/tmp and no GitHub environment.
 */
async function vitestOnCases(dir: string, cases: Record<string, string>, args: readonly string[]): Promise<{ result: Result<{ reject: false }>; childTmp: string }> {
  const caseDir = join(dir, 'cases');
  const childTmp = join(dir, 'tmp');
  await mkdir(caseDir, { recursive: true });
  await mkdir(childTmp, { recursive: true });
  for (const [name, text] of Object.entries(cases)) await writeFile(join(caseDir, name), text);
  const config = join(dir, 'vitest.config.mts');
  await writeFile(config, `import { casesProject } from ${JSON.stringify(PROJECT_MODULE)};\nexport default casesProject({ include: ['cases/*.json'] });\n`);
  const env = { ...process.env, TMPDIR: childTmp, GITHUB_STEP_SUMMARY: undefined, GITHUB_ACTIONS: undefined };
  const result = await execa('node', [VITEST, 'run', '--root', dir, '--config', config, ...args], { cwd: REPO_ROOT, env, extendEnv: false, reject: false, timeout: scaledMs(840_000) });
  return { result, childTmp };
}

/** seed-spm with its spm row claimed `reserved`, on its own firmware only (no SeaBIOS variant: one boot). */
function plantedCase(seedText: string): string {
  const spec = JSON.parse(seedText) as { name: string; expect: { e820: { lines: string[] } }; onFirmware?: unknown };
  spec.name = 'seed-spm-planted';
  delete spec.onFirmware;
  spec.expect.e820.lines = spec.expect.e820.lines.map((l) => l.replace('] soft reserved', '] reserved'));
  return `${JSON.stringify(spec, null, 2)}\n`;
}

/** The list's item at `index`; throws when there is none (the assertions before say why). */
function item<T>(list: readonly T[], index: number): T {
  const found = list[index];
  if (found === undefined) throw new Error(`no item ${index} in a list of ${list.length}`);
  return found;
}

/** Processes whose command line names `path`. */
function processesMentioning(path: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmdline.includes(path) ? [`${pid}: ${cmdline}`] : [];
      } catch {
        return []; // exited while we looked
      }
    });
}
