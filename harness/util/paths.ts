/** Paths every stage shares (util/ depends on nothing else in the harness). */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is harness/util/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** cases/: the case files (and cases/sets/, cases/matrix/). */
export const CASES_DIR = join(REPO_ROOT, 'cases');

/**
 * The firmware a QEMU built here lacks: SeaBIOS (package seabios) and the
 * option ROMs direct kernel boot needs (package qemu-system-data). Pass each with -L.
 */
export const FIRMWARE_DIRS: readonly string[] = ['/usr/share/seabios', '/usr/share/qemu'];
