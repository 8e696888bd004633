/**
 * The harness's error base: one line that says what went wrong and what to do.
 * The CLI prints `message` and, when present, `hint`, and nothing else.
 */
export class HarnessError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = new.target.name;
  }

  /** The single line the CLI shows for this error. */
  oneLine(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

/**
 * A command line that cannot be run as given (unknown option, missing or
 * conflicting argument, a value out of range): the CLI exits with status 2.
 */
export class UsageError extends HarnessError {}
