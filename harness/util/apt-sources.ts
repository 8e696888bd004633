import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Reads the machine's apt sources the way apt does, to find the Debian archive
 * the harness fetches from: `sources.list` and `sources.list.d/*.list` in the
 * one-line format (`deb [options] URI suite components`), and
 * `sources.list.d/*.sources` in deb822 stanzas. Files apt ignores
 * (`*.save`, `*.disabled…`) are ignored here too. scripts/setup-debian.sh does
 * the same in awk; a unit test runs both on the same layouts.
 */

/** The Debian archive found: its URI (no trailing slash) and the keyring its entry names, if any. */
export interface DebianArchive {
  uri: string;
  keyring: string | undefined;
}

/** An entry of either format, reduced to what the harness needs. */
interface SourceEntry {
  types: string[];
  uris: string[];
  keyring: string | undefined;
  enabled: boolean;
}

/** Keyrings Debian installs, tried when the configured entry names none. */
export const DEFAULT_KEYRINGS = ['/usr/share/keyrings/debian-archive-keyring.gpg', '/usr/share/keyrings/debian-archive-keyring.pgp'];

/** The files apt reads under `etc` (default /etc/apt), in apt's order. */
export async function sourceFiles(etc = '/etc/apt'): Promise<string[]> {
  const parts = join(etc, 'sources.list.d');
  const names = (await readdir(parts).catch(() => [] as string[])).filter((n) => n.endsWith('.list') || n.endsWith('.sources')).sort();
  return [join(etc, 'sources.list'), ...names.map((n) => join(parts, n))];
}

/** The first enabled `deb` entry whose URI is a Debian archive (a path ending in /debian), not the security archive. */
export async function findDebianArchive(etc = '/etc/apt'): Promise<DebianArchive | undefined> {
  for (const file of await sourceFiles(etc)) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const entries = file.endsWith('.sources') ? parseDeb822(text) : parseOneLine(text);
    const found = pickArchive(entries);
    if (found) return found;
  }
  return undefined;
}

function pickArchive(entries: SourceEntry[]): DebianArchive | undefined {
  for (const entry of entries) {
    if (!entry.enabled || !entry.types.includes('deb')) continue;
    const uri = entry.uris.find((u) => /\/debian\/?$/.test(u) && !u.includes('security'));
    if (uri) return { uri: uri.replace(/\/$/, ''), keyring: entry.keyring };
  }
  return undefined;
}

/** One-line format: `deb [opt=value …] URI suite [component…]`; comments and deb-src lines skipped. */
export function parseOneLine(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const raw of text.split('\n')) {
    const match = /^\s*(deb|deb-src)\s+(?:\[([^\]]*)\]\s*)?(\S+)/.exec(raw);
    if (!match?.[1] || !match[3]) continue;
    const options = (match[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const signedBy = options.find((o) => o.startsWith('signed-by='))?.slice('signed-by='.length);
    entries.push({ types: [match[1]], uris: [match[3]], keyring: signedBy, enabled: true });
  }
  return entries;
}

/** deb822 format: stanzas separated by blank lines, fields `Types`, `URIs`, `Signed-By`, `Enabled`. */
export function parseDeb822(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      if (/^\s*#/.test(line)) continue;
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1]) fields.set(match[1].toLowerCase(), (match[2] ?? '').trim());
    }
    if (!fields.has('uris')) continue;
    const words = (name: string) => (fields.get(name) ?? '').split(/\s+/).filter(Boolean);
    // Signed-By may hold an inline key block instead of a path; only a path is usable here.
    const signedBy = words('signed-by')[0];
    entries.push({
      types: words('types'),
      uris: words('uris'),
      keyring: signedBy?.startsWith('/') ? signedBy : undefined,
      enabled: (fields.get('enabled') ?? 'yes').toLowerCase() !== 'no',
    });
  }
  return entries;
}
