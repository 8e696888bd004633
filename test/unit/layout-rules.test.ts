import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';

/*
 * The harness's rooms, as rules a change cannot break silently: no import
 * cycles; every folder imports only folders before it in ROOM_ORDER (so no
 * two folders lean on each other and nothing points up the pipeline); no
 * file outside the interface classifier named for probing; no source folder
 * named like build output; no file that only re-exports others (an index.ts
 * barrel): a caller imports the module that defines the name. Imports are read from the files' own
 * `import … from './x.ts'` / `export … from` lines (relative paths only).
 */

/**
 * The folders of harness/, lowest first: a folder may import itself and the
 * folders before it. Foundations, then the pipeline (source → build →
 * guest image → case and model → VM and QMP → parse → check → report), then
 * what drives it (run, matrix, compare, review, vitest, cli). harness/README.md
 * draws the same order.
 */
const ROOM_ORDER = [
  'util', 'core', 'traits', 'cache', 'host',
  'source', 'qemu-build', 'interface', 'image',
  'parse', 'case', 'model', 'qmp', 'vm', 'check', 'report',
  'run', 'matrix', 'compare', 'review', 'vitest', 'cli',
] as const;
const HARNESS = join(REPO_ROOT, 'harness');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /^(?:import|export)\b[^'"]*?\bfrom\s+'(\.{1,2}\/[^']+)';?$/gm;

/** Each harness file (relative to harness/) and the harness files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(HARNESS)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => relative(HARNESS, resolve(dirname(file), m[1] ?? '')));
    graph.set(relative(HARNESS, file), targets);
  }
  return graph;
}

/** Every cycle found by depth-first search, each as the files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

/** The folder a harness file lives in ('.' for harness/ itself). */
function roomOf(file: string): string {
  return file.includes('/') ? (file.split('/')[0] ?? '.') : '.';
}

/** Every import from one folder into a folder that is not before it in `order`. */
function importsAgainstOrder(graph: Map<string, string[]>, order: readonly string[]): string[] {
  return [...graph].flatMap(([file, targets]) =>
    targets
      .filter((target) => roomOf(target) !== roomOf(file) && !(order.indexOf(roomOf(target)) >= 0 && order.indexOf(roomOf(target)) < order.indexOf(roomOf(file))))
      .map((target) => `${file} -> ${target}`),
  );
}

/** Each pair of folders that import each other, as 'a <-> b'. */
function mutualFolders(graph: Map<string, string[]>): string[] {
  const pairs = new Set<string>();
  for (const [file, targets] of graph) for (const target of targets) pairs.add(`${roomOf(file)} -> ${roomOf(target)}`);
  return [...pairs].flatMap((pair) => {
    const [a = '', b = ''] = pair.split(' -> ');
    return a < b && pairs.has(`${b} -> ${a}`) ? [`${a} <-> ${b}`] : [];
  });
}

/**
 * True when a file's code is nothing but `export … from` lines: a barrel
 * (index.ts) that stands between callers and the modules that define the names.
 */
function onlyReExports(text: string): boolean {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const statements = code.split(';').map((s) => s.trim()).filter((s) => s !== '');
  return statements.length > 0 && statements.every((s) => /^export\b[^'"]*\bfrom\s+'[^']+'$/.test(s));
}

const graph = importGraph();

describe('the harness layout', () => {
  it('reads the imports (the graph is not empty, every target exists)', () => {
    expect(graph.size).toBeGreaterThan(100);
    const missing = [...graph].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${file} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });

  it('names every folder of harness/ in the order, and only those', () => {
    const rooms = new Set([...graph.keys()].map(roomOf).filter((room) => room !== '.'));
    expect([...rooms].sort()).toEqual([...ROOM_ORDER].sort());
  });

  it('imports only from folders before each folder in the order', () => {
    expect(importsAgainstOrder(graph, ROOM_ORDER)).toEqual([]);
  });

  it('has no two folders that import each other', () => {
    expect(mutualFolders(graph)).toEqual([]);
  });

  it('finds an import against the order and a mutual pair when there is one (the checks can fail)', () => {
    const leaning = new Map([['case/load.ts', ['model/x.ts']], ['model/x.ts', ['case/load.ts']]]);
    expect(importsAgainstOrder(leaning, ['case', 'model'])).toEqual(['case/load.ts -> model/x.ts']);
    expect(mutualFolders(leaning)).toEqual(['case <-> model']);
  });

  it('util/ imports nothing else of the harness', () => {
    const outside = [...graph].filter(([file]) => file.startsWith('util/')).flatMap(([file, targets]) => targets.filter((t) => !t.startsWith('util/')).map((t) => `${file} -> ${t}`));
    expect(outside).toEqual([]);
  });

  it('names no file for probing outside the interface classifier (the probe command aside)', () => {
    const named = [...graph.keys()].filter((file) => /probe/i.test(file) && roomOf(file) !== 'interface' && file !== 'cli/commands/probe.ts');
    expect(named).toEqual([]);
  });

  it('has no barrel: no file only re-exports others (callers import the defining module)', () => {
    const barrels = tsFiles(HARNESS).filter((file) => onlyReExports(readFileSync(file, 'utf8'))).map((file) => relative(HARNESS, file));
    expect(barrels).toEqual([]);
  });

  it('finds a barrel when there is one, and not a module that also re-exports (the check can fail)', () => {
    expect(onlyReExports("/** The VM runner. */\nexport { launchVm } from './launch.ts';\nexport type { Vm } from './vm.ts';\nexport * from './errors.ts';\n")).toBe(true);
    expect(onlyReExports("export type { GuestImage } from '../image/image.ts';\nexport function f(): number {\n  return 1;\n}\n")).toBe(false);
  });

  it('has no folder named build/', () => {
    expect([...graph.keys()].filter((file) => file.split('/').includes('build'))).toEqual([]);
  });
});
