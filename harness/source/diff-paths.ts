import { posix } from 'node:path';
import { UsageError } from '../util/errors.ts';

/**
 * The files a patch touches, read the way `git apply` and GNU patch read a
 * patch: only from diff headers (`diff --git`, `---`/`+++` right before a
 * hunk, `rename|copy from|to`, mode lines), with hunk bodies skipped by their
 * line counts. Prose in a commit message that merely looks like a header
 * names nothing. Every path is checked before any file is touched: a series
 * is input from people we do not know, and these paths are later copied or
 * removed in the build tree.
 */

/** A patch names a path outside its tree (absolute, `..`, or a symbolic link pointing out): exit 2. */
export class UnsafeSeriesPathError extends UsageError {}

/** What one patch's headers name. */
export interface PatchPaths {
  /** Paths relative to the tree (`a/`, `b/` or the -p1 component stripped); /dev/null left out. */
  paths: string[];
}

const SYMLINK_MODE = '120000';

/** Reads the paths of `content` (one patch or mail); throws UnsafeSeriesPathError naming `patchName` and the line. */
export function patchPaths(content: Buffer | string, patchName: string): PatchPaths {
  const lines = (typeof content === 'string' ? content : content.toString('utf8')).split('\n').map((l) => l.replace(/\r$/, ''));
  const paths = new Set<string>();
  const refuse = (lineIndex: number, what: string): never => {
    throw new UnsafeSeriesPathError(`patch ${patchName} line ${lineIndex + 1}: ${what}`, 'a series may only change files inside the QEMU tree; fix or drop that patch');
  };
  const take = (raw: string, lineIndex: number, kind: 'prefixed' | 'plain'): string | undefined => {
    const name = unquote(raw);
    if (name === '/dev/null') return undefined;
    if (name.startsWith('/')) refuse(lineIndex, `names the absolute path '${name}'`);
    // -p1: the first component (a/, b/, or any other tool's prefix) is dropped; rename/copy lines carry none.
    const relative = kind === 'prefixed' ? name.slice(name.indexOf('/') + 1) : name;
    if (kind === 'prefixed' && !name.includes('/')) refuse(lineIndex, `names '${name}', which has no a/ or b/ prefix to strip`);
    checkRelative(relative, lineIndex, refuse);
    paths.add(relative);
    return relative;
  };

  // File-level state of the diff being read: its new-side path, whether it is (or becomes) a symbolic
  // link, and whether we are still in its extended header (rename/copy/mode lines count only there).
  let current: { path?: string; symlink: boolean; inHeader: boolean } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const git = /^diff --git (.+)$/.exec(line);
    if (git?.[1]) {
      current = { symlink: false, inHeader: true };
      // Both names from the line only when they are the same (mode-only or binary diffs have no ---/+++).
      const pair = gitPair(git[1]);
      if (pair) current.path = take(pair, i, 'prefixed');
      continue;
    }
    if (current?.inHeader) {
      const header = /^(rename|copy) (from|to) (.+)$/.exec(line);
      if (header?.[3]) {
        const path = take(header[3], i, 'plain');
        if (header[2] === 'to') current.path = path;
        continue;
      }
      const mode = /^(?:new file mode|new mode|deleted file mode|old mode) (\d+)$/.exec(line) ?? /^index [0-9a-f]+\.\.[0-9a-f]+ (\d+)$/.exec(line);
      if (mode?.[1] === SYMLINK_MODE && !line.startsWith('deleted') && !line.startsWith('old')) current.symlink = true;
      if (mode) continue;
    }
    const minus = /^--- (.+?)(?:\t.*)?$/.exec(line);
    const plus = /^\+\+\+ (.+?)(?:\t.*)?$/.exec(lines[i + 1] ?? '');
    const hunkFollows = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@/.test(lines[i + 2] ?? '');
    if (minus?.[1] && plus?.[1] && hunkFollows) {
      current = current?.inHeader ? { ...current, inHeader: false } : { symlink: false, inHeader: false };
      take(minus[1], i, 'prefixed');
      const newPath = take(plus[1], i + 1, 'prefixed');
      if (newPath !== undefined) current.path = newPath;
      i += 1;
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk && current) {
      current.inHeader = false;
      const added: { text: string; line: number }[] = [];
      i = skipHunk(lines, i, Number(hunk[1] ?? 1), Number(hunk[2] ?? 1), added);
      const target = added[0];
      if (current.symlink && current.path !== undefined && target) checkLinkTarget(current.path, added.map((a) => a.text).join('\n'), target.line, refuse);
      continue;
    }
    // Anything else (a commit message, a diffstat, a signature) names nothing; a new mail or the signature ends the diff.
    if (/^(?:From [0-9a-f]{40} |-- $)/.test(line)) current = undefined;
  }
  return { paths: [...paths].sort() };
}

/** Every path of a series' patches, checked; the first unsafe one is refused naming its patch and line. */
export function seriesPathsOf(patches: readonly { name: string; content: Buffer | string }[]): string[] {
  const all = new Set<string>();
  for (const patch of patches) for (const path of patchPaths(patch.content, patch.name).paths) all.add(path);
  return [...all].sort();
}

/** Consumes a hunk's body from the line after its header; returns the index of its last line. `added` gets its `+` lines. */
function skipHunk(lines: readonly string[], header: number, oldCount: number, newCount: number, added: { text: string; line: number }[]): number {
  let i = header;
  let oldLeft = oldCount;
  let newLeft = newCount;
  while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
    const body = lines[i + 1] as string;
    const tag = body[0];
    if (tag === ' ' || body === '') {
      oldLeft--;
      newLeft--;
    } else if (tag === '-') oldLeft--;
    else if (tag === '+') {
      newLeft--;
      added.push({ text: body.slice(1), line: i + 1 });
    } else if (tag !== '\\') break;
    i++;
  }
  // "\ No newline at end of file" may follow the last line.
  while ((lines[i + 1] ?? '').startsWith('\\')) i++;
  return i;
}

/** `a/x b/x` → `a/x` when both sides name the same file; undefined when it cannot tell (renames give their own lines). */
function gitPair(text: string): string | undefined {
  if (text.startsWith('"')) return undefined;
  const half = (text.length - 1) / 2;
  if (!Number.isInteger(half) || text[half] !== ' ') return undefined;
  const left = text.slice(0, half);
  const right = text.slice(half + 1);
  return left.slice(left.indexOf('/')) === right.slice(right.indexOf('/')) ? left : undefined;
}

function checkRelative(path: string, lineIndex: number, refuse: (line: number, what: string) => never): void {
  if (path === '' || path.startsWith('/')) refuse(lineIndex, `names the path '${path}', which is not inside the tree`);
  if (path.split('/').includes('..')) refuse(lineIndex, `names '${path}', whose '..' leaves the tree`);
}

/** A symbolic link's target (its hunk's `+` text) must resolve inside the tree, from the link's own directory. */
function checkLinkTarget(link: string, target: string, lineIndex: number, refuse: (line: number, what: string) => never): void {
  if (target.startsWith('/')) refuse(lineIndex, `makes ${link} a symbolic link to the absolute path '${target}'`);
  const resolved = posix.normalize(posix.join(posix.dirname(link), target));
  if (resolved === '..' || resolved.startsWith('../')) refuse(lineIndex, `makes ${link} a symbolic link to '${target}', outside the tree`);
}

/** Git's C-style quoting of names with special characters ("a/x\ty"); unquoted names as they are. */
function unquote(name: string): string {
  if (!name.startsWith('"') || !name.endsWith('"') || name.length < 2) return name;
  const bytes: number[] = [];
  const body = name.slice(1, -1);
  const escapes: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1))?.[0];
    if (octal) {
      bytes.push(parseInt(octal, 8));
      i += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
