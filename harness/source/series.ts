import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HarnessError } from '../util/errors.ts';
import { hashJson, sha256 } from '../util/hash.ts';
import { runOk } from '../util/subprocess.ts';
import { seriesPathsOf } from './diff-paths.ts';

/**
 * A patch series: a directory of `*.patch` files (git format-patch output,
 * applied in name order with numeric prefixes compared as numbers) or one
 * mbox file (split with `git mailsplit`, applied in mailbox order). Messages
 * without a diff (cover letters) are skipped, not applied.
 */
export interface SeriesPatch {
  /** File name, or for an mbox message `NNNN-<subject slug>.patch` as format-patch would name it. */
  name: string;
  /** Where it came from, for messages: the file, or `<mbox> message N`. */
  origin: string;
  sha256: string;
  content: Buffer;
}

export interface Series {
  /** Absolute path of the directory or mbox. */
  path: string;
  format: 'dir' | 'mbox';
  patches: SeriesPatch[];
  /** Names of messages that hold no diff (cover letters). */
  skipped: string[];
  /** sha256 over the applied patches' (name, content), in order. */
  hash: string;
  /** Every path the patches' diff headers name, relative to the tree; checked to stay inside it (see diff-paths.ts). */
  paths: string[];
  /** The commit the series was made against, from a `base-commit:` trailer (`git format-patch --base`); null when none names it. */
  baseCommit: string | null;
}

const MAILSPLIT_TIMEOUT_MS = 60_000;

export class SeriesError extends HarnessError {}

/** Loads a series from a directory of *.patch files or an mbox file. */
export async function loadSeries(path: string): Promise<Series> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  if (!info) throw new SeriesError(`patch series ${absolute} does not exist`, 'give --patches DIR|MBOX, or --no-patches for the baseline');
  const { format, messages } = info.isDirectory()
    ? { format: 'dir' as const, messages: await readPatchDir(absolute) }
    : { format: 'mbox' as const, messages: await splitMbox(absolute) };
  const patches = messages.filter((m) => containsDiff(m.content));
  const skipped = messages.filter((m) => !containsDiff(m.content)).map((m) => m.name);
  if (patches.length === 0) throw new SeriesError(`patch series ${absolute} holds no patches`, format === 'dir' ? 'put git format-patch *.patch files in it' : 'give an mbox of patch mails');
  // Refused here, before anything is copied, applied or built: a path outside the tree is exit 2.
  const paths = seriesPathsOf(patches);
  return { path: absolute, format, patches, skipped, hash: seriesHash(patches), paths, baseCommit: seriesBaseCommit(absolute, messages) };
}

/**
 * The one commit the series' `base-commit:` trailers name (format-patch writes it
 * into the cover letter, or the first patch without one). Two different ones
 * mean the series was put together from different bases: that is refused.
 */
function seriesBaseCommit(path: string, messages: readonly SeriesPatch[]): string | null {
  const named = messages.flatMap((m) => {
    const base = baseCommitOf(m.content);
    return base ? [{ base, name: m.name }] : [];
  });
  const first = named[0];
  const other = named.find((n) => n.base !== first?.base);
  if (first && other) {
    throw new SeriesError(`patch series ${path} names two base commits: ${first.base} (${first.name}) and ${other.base} (${other.name})`, 'keep the base-commit: line of the base the series was made against, remove the other');
  }
  return first?.base ?? null;
}

/** The commit of a `base-commit: <sha>` line (as `git format-patch --base` writes it after the diff); undefined when absent. */
export function baseCommitOf(content: Buffer | string): string | undefined {
  const text = typeof content === 'string' ? content : content.toString('latin1');
  return /^base-commit: ([0-9a-f]{40}(?:[0-9a-f]{24})?)[ \t\r]*$/m.exec(text)?.[1];
}

/** The series identity: order, names and contents all count. */
export function seriesHash(patches: readonly Pick<SeriesPatch, 'name' | 'sha256'>[]): string {
  return hashJson(patches.map((p) => [p.name, p.sha256]));
}

/** Name order with leading numbers compared as numbers: 2-x before 10-x, 0001 before 0002. */
export function comparePatchNames(a: string, b: string): number {
  const na = /^\d+/.exec(a)?.[0];
  const nb = /^\d+/.exec(b)?.[0];
  if (na !== undefined && nb !== undefined && Number(na) !== Number(nb)) return Number(na) - Number(nb);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when the text holds a unified or git diff (cover letters and notes do not). */
export function containsDiff(content: Buffer | string): boolean {
  const text = typeof content === 'string' ? content : content.toString('latin1');
  return /^diff --git /m.test(text) || (/^--- \S/m.test(text) && /^\+\+\+ \S/m.test(text) && /^@@ /m.test(text));
}

async function readPatchDir(dir: string): Promise<SeriesPatch[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.patch')).sort(comparePatchNames);
  if (names.length === 0) throw new SeriesError(`patch series directory ${dir} has no *.patch files`, 'put git format-patch output there, or pass --no-patches');
  return Promise.all(names.map(async (name) => patchFrom(name, join(dir, name), await readFile(join(dir, name)))));
}

async function splitMbox(mbox: string): Promise<SeriesPatch[]> {
  const out = await mkdtemp(join(tmpdir(), 'memmap-harness-mailsplit-'));
  try {
    // -b: a file of one patch without an mbox "From " line is one message.
    await runOk('git', ['mailsplit', '-b', `-o${out}`, '--', mbox], {
      timeoutMs: MAILSPLIT_TIMEOUT_MS,
      what: `git mailsplit ${mbox}`,
      hint: 'give an mbox file (e.g. from b4 or a mail client) or a directory of *.patch files',
    });
    const parts = (await readdir(out)).sort(comparePatchNames);
    const contents = await Promise.all(parts.map((part) => readFile(join(out, part))));
    // Patches are numbered among themselves, as format-patch numbers them; a cover letter keeps its message number.
    let patchNumber = 0;
    return contents.map((content, index) => {
      const subject = subjectOf(content.toString('utf8'));
      const name = containsDiff(content) ? mboxPatchName(++patchNumber, subject) : `message-${index + 1}-${mboxPatchName(0, subject)}`;
      return patchFrom(name, `${mbox} message ${index + 1}`, content);
    });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function patchFrom(name: string, origin: string, content: Buffer): SeriesPatch {
  return { name, origin, content, sha256: sha256(content) };
}

/** The Subject header of a mail, unfolded; undefined when absent. */
export function subjectOf(message: string): string | undefined {
  const headers = message.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const match = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers);
  return match?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
}

/** `0002-numa-add-memmap-type-option.patch` from "[PATCH v5 2/3] numa: add memmap-type option". */
export function mboxPatchName(number: number, subject: string | undefined): string {
  const title = (subject ?? '').replace(/^(\s*\[[^\]]*\]\s*)+/, '');
  const slug = title.replace(/[^A-Za-z0-9._]+/g, '-').replace(/\.+/g, '.').replace(/^[-.]+|[-.]+$/g, '').slice(0, 52).replace(/[-.]+$/, '');
  const prefix = String(number).padStart(4, '0');
  return slug ? `${prefix}-${slug}.patch` : `${prefix}.patch`;
}
