import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { HarnessError } from '../util/errors.ts';

/**
 * Where a QEMU source tree comes from, as given on the command line:
 *   debian:<package>=<version>   a Debian source package (only its orig tarball is used)
 *   git:<url>#<ref>              a git repository at a branch, tag or commit
 *   <url>.git#<ref>              the same, without the prefix
 *   dir:<path> or <path>         a local tree, built as it is on disk
 */
export type SourceSpec = DebianSpec | GitSpec | DirSpec;
export type SourceKind = SourceSpec['kind'];

export interface DebianSpec {
  kind: 'debian';
  /** The spec as written, for the manifest. */
  text: string;
  package: string;
  version: string;
}

export interface GitSpec {
  kind: 'git';
  text: string;
  url: string;
  ref: string;
}

export interface DirSpec {
  kind: 'dir';
  text: string;
  /** Absolute path. */
  path: string;
}

export const DEFAULT_SOURCE_SPEC = 'debian:qemu=1:10.2.2+ds-1';

const SPEC_FORMS = "use debian:PACKAGE=VERSION, git:URL#REF, URL.git#REF, dir:PATH or an existing directory";

export class SourceSpecError extends HarnessError {
  constructor(text: string, why: string) {
    super(`bad source spec '${text}': ${why}`, SPEC_FORMS);
  }
}

/** Parses a source spec; relative local paths are resolved against `cwd`. Throws SourceSpecError on anything else. */
export function parseSourceSpec(text: string, cwd: string = process.cwd()): SourceSpec {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new SourceSpecError(text, 'it is empty');
  if (trimmed.startsWith('debian:')) return parseDebian(trimmed);
  if (trimmed.startsWith('git:')) return parseGit(trimmed, trimmed.slice('git:'.length));
  if (looksLikeGitUrl(trimmed)) return parseGit(trimmed, trimmed);
  if (trimmed.startsWith('dir:')) return parseDir(trimmed, trimmed.slice('dir:'.length), cwd);
  if (isDirectory(resolve(cwd, trimmed))) return parseDir(trimmed, trimmed, cwd);
  throw new SourceSpecError(text, 'not a known form and not an existing directory');
}

function parseDebian(text: string): DebianSpec {
  const match = /^debian:([a-z0-9][a-z0-9.+-]+)=([0-9][A-Za-z0-9.+~:-]*)$/.exec(text);
  if (!match?.[1] || !match[2]) throw new SourceSpecError(text, 'expected debian:PACKAGE=VERSION, e.g. debian:qemu=1:10.2.2+ds-1');
  return { kind: 'debian', text, package: match[1], version: match[2] };
}

/** git:<url>#<ref>; the URL itself may contain '#' only before the last one. */
function parseGit(text: string, rest: string): GitSpec {
  const hash = rest.lastIndexOf('#');
  const url = hash < 0 ? rest : rest.slice(0, hash);
  const ref = hash < 0 ? '' : rest.slice(hash + 1);
  if (url.length === 0) throw new SourceSpecError(text, 'the git URL is empty');
  if (ref.length === 0) throw new SourceSpecError(text, 'a git source needs #REF (branch, tag or commit), e.g. git:URL#v10.2.2');
  if (/\s/.test(ref) || ref.startsWith('-')) throw new SourceSpecError(text, `'${ref}' is not a valid git ref`);
  return { kind: 'git', text, url, ref };
}

function parseDir(text: string, path: string, cwd: string): DirSpec {
  if (path.length === 0) throw new SourceSpecError(text, 'the directory is empty');
  const absolute = resolve(cwd, path);
  if (!isDirectory(absolute)) throw new SourceSpecError(text, `${absolute} is not a directory`);
  return { kind: 'dir', text, path: absolute };
}

/** A URL (scheme:// or scp-like user@host:path) whose path ends in .git, optionally followed by #ref. */
function looksLikeGitUrl(text: string): boolean {
  const withoutRef = text.replace(/#[^#]*$/, '');
  if (!withoutRef.endsWith('.git')) return false;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(withoutRef) || /^[^/\s:]+@[^/\s:]+:/.test(withoutRef);
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
