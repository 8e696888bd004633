import stripAnsi from 'strip-ansi';
import { e820TypeOfLabel } from './e820-labels.ts';

/** One logical line of a serial capture, after normalisation. */
export interface ConsoleLine {
  /** The text without printk timestamp, control characters or trailing blanks. Leading blanks are kept (/proc/iomem indents). */
  text: string;
  /** printk timestamp in seconds, when the kernel printed one (CONFIG_PRINTK_TIME). */
  time?: number;
  /** 1-based line number in the raw capture where this line starts. */
  rawLine: number;
}

// printk's `[%5lu.%06lu] ` prefix; only at the very start of a line.
const TIMESTAMP = /^\[\s*(\d+\.\d+)\] ?/;

// C0 controls except TAB, DEL, and C1 controls. ANSI sequences are gone by then;
// what is left is firmware or terminal noise (NUL, BEL, a lone ESC, SI/SO…).
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

// An e820 range line that stops right after its `]`: the type word (a pr_cont)
// is missing, so the console (or a mailer) broke the line there.
const E820_HEAD_ONLY = /^\w[\w -]*?: \[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\]$/;


/**
 * Normalises a raw serial capture into lines: strips ANSI and control
 * characters, splits on any line ending, drops optional printk timestamps and
 * re-joins e820 lines whose type word landed on the next line.
 */
export function normaliseConsole(raw: string): ConsoleLine[] {
  const lines = splitRaw(raw).map(({ text, rawLine }) => withTimestamp(cleanText(text), rawLine));
  return rejoinSplitE820(lines);
}

/** Splits on CRLF, LF and lone CR; a lone CR is a carriage return a terminal would show as a new line of output. */
function splitRaw(raw: string): { text: string; rawLine: number }[] {
  const out: { text: string; rawLine: number }[] = [];
  raw.split('\n').forEach((physical, index) => {
    const pieces = physical.replace(/\r+$/, '').split('\r');
    for (const piece of pieces) out.push({ text: piece, rawLine: index + 1 });
  });
  if (out.length > 0 && out[out.length - 1]?.text === '') out.pop();
  return out;
}

/** Removes ANSI escape sequences, then any control character left over, then trailing blanks. */
export function cleanText(text: string): string {
  return stripAnsi(text).replace(CONTROL, '').trimEnd();
}

function withTimestamp(text: string, rawLine: number): ConsoleLine {
  const match = TIMESTAMP.exec(text);
  if (!match?.[1]) return { text, rawLine };
  return { text: text.slice(match[0].length), time: Number(match[1]), rawLine };
}

/** Joins `X: [mem a-b]` with a following line that holds only an e820 type word (6.1 or 7.x); nothing else is joined. */
function rejoinSplitE820(lines: ConsoleLine[]): ConsoleLine[] {
  const out: ConsoleLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as ConsoleLine;
    const next = lines[i + 1];
    if (next && E820_HEAD_ONLY.test(line.text) && e820TypeOfLabel(next.text.trim()) !== undefined) {
      out.push({ ...line, text: `${line.text} ${next.text.trim()}` });
      i++;
    } else {
      out.push(line);
    }
  }
  return out;
}
