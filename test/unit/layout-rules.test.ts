import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../harness/util/paths.ts';

/*
 * The harness's rooms, as rules a change cannot break silently: no import
 * cycles; util/ and core/ import nothing else of the harness; no source
 * folder named like build output. Imports are read from the files' own
 * `import … from './x.ts'` / `export … from` lines (relative paths only).
 */
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

  it.each(['util', 'core'])('%s/ depends on nothing else in the harness', (room) => {
    const outside = [...graph].filter(([file]) => file.startsWith(`${room}/`)).flatMap(([file, targets]) => targets.filter((t) => !t.startsWith(`${room}/`)).map((t) => `${file} -> ${t}`));
    expect(outside).toEqual([]);
  });

  it('has no folder named build/', () => {
    expect([...graph.keys()].filter((file) => file.split('/').includes('build'))).toEqual([]);
  });
});
