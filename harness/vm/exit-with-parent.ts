import { execa } from 'execa';
import { scaledMs } from '../util/timeouts.ts';

/**
 * QEMU dies with the harness even when the harness gets no chance to run a
 * handler (SIGKILL, OOM kill): `-run-with exit-with-parent=on` (QEMU 9.1 and
 * later) asks the kernel to signal QEMU when its parent exits. Older or
 * foreign binaries lack it; they are asked once (`-run-with help`) and run
 * without it.
 */
const known = new Map<string, Promise<readonly string[]>>();
const ASK_TIMEOUT_MS = 15_000;

/** The arguments that tie `binary`'s life to this process, or none when it has no such option. */
export function exitWithParentArgs(binary: string): Promise<readonly string[]> {
  let answer = known.get(binary);
  if (answer === undefined) {
    answer = ask(binary);
    known.set(binary, answer);
  }
  return answer;
}

async function ask(binary: string): Promise<readonly string[]> {
  const result = await execa(binary, ['-run-with', 'help'], { reject: false, timeout: scaledMs(ASK_TIMEOUT_MS), stdin: 'ignore', all: true }).catch(() => undefined);
  // QEMU lists the -run-with properties and exits 1 (help is not a run): judge by the list alone.
  return /\bexit-with-parent=/.test(result?.all ?? '') ? ['-run-with', 'exit-with-parent=on'] : [];
}
