import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { baseCommitOf, comparePatchNames, containsDiff, subjectOf, SeriesError } from '../source/series.ts';

/**
 * What a reviewer's reply names about a posted series, read from its mails:
 * the subject (the cover letter's, else the first patch's), the base commit
 * (`base-commit:` trailer), and each message's subject. Only headers and
 * trailers are read here; applying is the build's business (source/series.ts
 * and source/apply.ts read the same files for that).
 */
export interface SeriesMail {
  /** The cover letter's subject, or the first patch's when there is no cover letter. */
  subject: string;
  /** True when the subject is a cover letter's ([PATCH 0/N], no diff). */
  hasCoverLetter: boolean;
  baseCommit: string | null;
  /** The subject of each patch (messages with a diff), in order. */
  patches: string[];
  /** Messages without a diff that are not the cover letter's (notes, replies saved with the thread). */
  otherMessages: string[];
}

/** Largest series file read for its headers; a bigger mbox is not a patch series a reviewer was sent. */
const MAX_MBOX_BYTES = 64 * 1024 * 1024;

/** Reads the headers of a series given as an mbox or a directory of *.patch files. Throws SeriesError. */
export async function readSeriesMail(path: string): Promise<SeriesMail> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new SeriesError(`patch series ${path} does not exist`, 'give an mbox (b4 am writes a .mbx) or a directory of *.patch files');
  const messages = info.isDirectory() ? await directoryMessages(path) : mboxMessages(await readLimited(path, info.size));
  return describeMessages(path, messages);
}

/** The messages of an mbox: each begins with a `From ` separator line (format-patch's and b4's). */
export function mboxMessages(text: string): string[] {
  const parts = text.split(/^(?=From \S+ .*\d{4}\r?$)/m).filter((part) => /\S/.test(part));
  // Text before the first separator (a file of one patch without one) is a message of its own.
  return parts;
}

export function describeMessages(path: string, messages: readonly string[]): SeriesMail {
  const withSubjects = messages.map((m) => ({ subject: printable(subjectOf(m) ?? '(no subject)'), diff: containsDiff(m), base: baseCommitOf(m) }));
  const patches = withSubjects.filter((m) => m.diff);
  if (patches.length === 0) throw new SeriesError(`patch series ${path} holds no patches`, 'give an mbox of patch mails or a directory of *.patch files');
  const notes = withSubjects.filter((m) => !m.diff);
  const cover = notes.find((m) => /\[[^\]]*\b0+\/\d+\]/.test(m.subject)) ?? (notes[0] === withSubjects[0] ? notes[0] : undefined);
  return {
    subject: (cover ?? patches[0])?.subject ?? '(no subject)',
    hasCoverLetter: cover !== undefined,
    baseCommit: withSubjects.find((m) => m.base !== undefined)?.base ?? null,
    patches: patches.map((m) => m.subject),
    otherMessages: notes.filter((m) => m !== cover).map((m) => m.subject),
  };
}

/** A subject from an untrusted mail goes into a terminal and a reply: control characters (escapes) become '?'. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

async function directoryMessages(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.patch')).sort(comparePatchNames);
  return Promise.all(names.map(async (name) => (await readFile(join(dir, name))).toString('utf8')));
}

async function readLimited(path: string, size: number): Promise<string> {
  if (size > MAX_MBOX_BYTES) throw new SeriesError(`${path} is ${size} bytes: too large for a patch series`, 'give the series as b4 am writes it');
  return (await readFile(path)).toString('utf8');
}
