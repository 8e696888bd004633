import { join, resolve } from 'node:path';

/** A fresh results directory for one run: results/<UTC timestamp>, under the given root (default ./results). */
export function newResultsDir(root = 'results', now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  return resolve(join(root, stamp));
}
