import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { HarnessError } from '../util/errors.ts';

/**
 * Where a QEMU source tree comes from, as given on the command line:
 *   debian:<package>=<version>   a Debian source package (only its orig tarball is used)
 *   git:<url>#<ref>              a git repository at a branch, tag or commit
 *   <url>.git#<ref>              the same, without the prefix
 *   dir:<path> or <path>         a local tree, built as it is on disk
 * A Debian *binary* package is not a source: see DebianBinSpec and parseDebianBinSpec.
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

/**
 * A QEMU taken from Debian's binary packages instead of built:
 *   debian-bin:<package>[=<version>][@<suite>]   e.g. debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid
 * No version means the suite's current one (resolved and recorded); the suite defaults to sid.
 */
export interface DebianBinSpec {
  kind: 'debian-bin';
  /** The spec as written, for the manifest. */
  text: string;
  package: string;
  /** Exact Debian version; undefined = whatever the suite has now. */
  version: string | undefined;
  suite: BinaryPackageSuite;
}

/** Suites a binary package can come from: the ones debootstrap knows and the mirror serves. */
export const BINARY_PACKAGE_SUITES = ['bookworm', 'trixie', 'sid'] as const;
export type BinaryPackageSuite = (typeof BINARY_PACKAGE_SUITES)[number];

const DEBIAN_BIN_PREFIX = 'debian-bin:';

export const DEFAULT_SOURCE_SPEC = 'debian:qemu=1:10.2.2+ds-1';

const SPEC_FORMS = "use debian:PACKAGE=VERSION, git:URL#REF, URL.git#REF, dir:PATH or an existing directory (or, for a prebuilt QEMU, debian-bin:PACKAGE[=VERSION][@SUITE])";

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
  if (isDebianBinSpec(trimmed)) throw new SourceSpecError(text, 'debian-bin: names a binary package, which cannot be built or patched; use it where a QEMU is expected (build, run, matrix, probe) without --patches');
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

/** True when the text is meant as a debian-bin: spec (it may still be malformed). */
export function isDebianBinSpec(text: string | undefined): boolean {
  return text !== undefined && text.trim().startsWith(DEBIAN_BIN_PREFIX);
}

/** Parses debian-bin:PACKAGE[=VERSION][@SUITE]; throws SourceSpecError naming the accepted form. */
export function parseDebianBinSpec(text: string): DebianBinSpec {
  const trimmed = text.trim();
  const match = /^debian-bin:([a-z0-9][a-z0-9.+-]+)(?:=([0-9][A-Za-z0-9.+~:-]*))?(?:@([a-z0-9-]+))?$/.exec(trimmed);
  if (!match?.[1]) {
    throw new SourceSpecError(text, 'expected debian-bin:PACKAGE[=VERSION][@SUITE], e.g. debian-bin:qemu-system-x86=1:11.1.3+ds-1@sid');
  }
  const suite = match[3] ?? 'sid';
  if (!isBinaryPackageSuite(suite)) throw new SourceSpecError(text, `suite '${suite}' is not one of ${BINARY_PACKAGE_SUITES.join(', ')}`);
  return { kind: 'debian-bin', text: trimmed, package: match[1], version: match[2], suite };
}

function isBinaryPackageSuite(suite: string): suite is BinaryPackageSuite {
  return (BINARY_PACKAGE_SUITES as readonly string[]).includes(suite);
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
