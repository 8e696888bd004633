import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheArea } from '../util/cache-dirs.ts';
import { ensureEntry } from '../cache/entry.ts';
import { hashJson } from '../util/hash.ts';
import { ensureDebianOrig, extractTarball } from './debian.ts';
import { fetchGitTree, localTreeState, resolveGitCommit } from './git.ts';
import type { SourceKind, SourceSpec } from './spec.ts';
import { runOk } from '../util/subprocess.ts';

const EXTRACT_TIMEOUT_MS = 10 * 60 * 1000;
const COPY_TIMEOUT_MS = 10 * 60 * 1000;
/** Paths per `cp --parents` call: far below ARG_MAX. */
const COPY_CHUNK = 1000;

/** What was built: enough to rebuild it and to tell two builds apart. */
export interface SourceIdentity {
  /** The spec as given. */
  spec: string;
  kind: SourceKind;
  /** Debian version, resolved git commit, or a local tree's HEAD (`-dirty` when changed) / `unversioned`. */
  version: string;
  /** Orig tarball sha256, git commit, or the local tree's content hash. */
  hash: string;
}

/** A spec with its identity resolved; for local trees, also the list of files that identity covers. */
export interface ResolvedSource {
  spec: SourceSpec;
  identity: SourceIdentity;
  /** Local trees only: the files to copy, relative to spec.path. */
  localFiles?: string[];
  /** Debian only: the cached orig tarball. */
  tarball?: string;
}

/** A tree to copy into a build: the cached pristine tree, or a local tree with its file list. */
export interface PristineTree {
  dir: string;
  /** When set, only these relative paths are copied (local trees). */
  files?: string[];
  /** Contents of the tree's VERSION file (e.g. "10.2.2"), when present. */
  upstreamVersion?: string;
}

export interface SourceContext {
  cacheEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** Resolves a spec's identity. Cheap once the source is cached (a Debian tarball is downloaded on first use). */
export async function resolveSource(spec: SourceSpec, ctx: SourceContext = {}): Promise<ResolvedSource> {
  switch (spec.kind) {
    case 'debian': {
      const orig = await ensureDebianOrig(spec, ctx.cacheEnv, ctx.log);
      return { spec, tarball: orig.tarball, identity: { spec: spec.text, kind: 'debian', version: spec.version, hash: orig.sha256 } };
    }
    case 'git': {
      const commit = await resolveGitCommit(spec.url, spec.ref, ctx.signal);
      return { spec, identity: { spec: spec.text, kind: 'git', version: commit, hash: commit } };
    }
    case 'dir': {
      const state = await localTreeState(spec.path, ctx.signal);
      return { spec, localFiles: state.files, identity: { spec: spec.text, kind: 'dir', version: state.version, hash: state.hash } };
    }
  }
}

/** The content part of an identity: two specs naming the same bytes share cache entries. */
export function identityKey(identity: SourceIdentity): { kind: SourceKind; hash: string } {
  return { kind: identity.kind, hash: identity.hash };
}

interface SourceEntryManifest {
  identity: SourceIdentity;
  upstreamVersion?: string;
}

/**
 * The pristine tree for a resolved source. Debian and git trees are extracted once
 * into cacheArea('sources')/<identity hash>/tree (published atomically); a local
 * tree is used in place.
 */
export async function ensurePristineTree(source: ResolvedSource, ctx: SourceContext = {}): Promise<PristineTree> {
  if (source.spec.kind === 'dir') {
    return { dir: source.spec.path, files: source.localFiles, upstreamVersion: await readVersionFile(source.spec.path) };
  }
  const entryDir = join(cacheArea('sources', ctx.cacheEnv), hashJson(identityKey(source.identity)));
  const manifest = await ensureEntry<SourceEntryManifest>(entryDir, async (staging) => {
    const tree = join(staging, 'tree');
    await produceTree(source, staging, tree, ctx);
    return { identity: source.identity, upstreamVersion: await readVersionFile(tree) };
  });
  return { dir: join(entryDir, 'tree'), upstreamVersion: manifest.upstreamVersion };
}

async function produceTree(source: ResolvedSource, staging: string, tree: string, ctx: SourceContext): Promise<void> {
  const spec = source.spec;
  if (spec.kind === 'debian') {
    if (!source.tarball) throw new Error('resolved Debian source without a tarball');
    ctx.log?.(`extracting ${spec.package} ${spec.version} orig tarball`);
    const work = join(staging, 'unpack');
    await mkdir(work);
    const tarball = source.tarball;
    await extractTarball(tarball, work, tree, async (args) => {
      await runOk('tar', args, { timeoutMs: EXTRACT_TIMEOUT_MS, signal: ctx.signal, what: `tar -x ${tarball}` });
    });
  } else if (spec.kind === 'git') {
    ctx.log?.(`fetching ${spec.url} ${spec.ref} (${source.identity.hash.slice(0, 12)})`);
    await fetchGitTree(spec.url, spec.ref, source.identity.hash, tree, ctx.signal);
  }
}

/** Copies a pristine tree into `dest` (created), keeping modes and links. */
export async function copyTree(tree: PristineTree, dest: string, signal?: AbortSignal): Promise<void> {
  await mkdir(dest, { recursive: true });
  if (!tree.files) {
    await runOk('cp', ['-a', '--', `${tree.dir}/.`, dest], { timeoutMs: COPY_TIMEOUT_MS, signal, what: `copy ${tree.dir}` });
    return;
  }
  for (let i = 0; i < tree.files.length; i += COPY_CHUNK) {
    const chunk = tree.files.slice(i, i + COPY_CHUNK);
    await runOk('cp', ['-a', '--parents', '-t', dest, '--', ...chunk], { cwd: tree.dir, timeoutMs: COPY_TIMEOUT_MS, signal, what: `copy ${tree.dir}` });
  }
}

async function readVersionFile(dir: string): Promise<string | undefined> {
  const text = await readFile(join(dir, 'VERSION'), 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}
