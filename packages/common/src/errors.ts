/**
 * The base of every error Solstice CI raises on purpose. `code` is stable (scripts and tests
 * match on it); `hint`, when present, says what the user can do about it.
 *
 * @example
 *   throw new WorkflowParseError({ file, line: 3, column: 5, message: "job without id" });
 */
export class SolsticeError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options?.hint;
  }
}
