/**
 * Something in a job that Solstice CI translates differently from Actions, or ignores: an
 * unsupported `uses:`, `container:`, an ignored checkout input… The job still runs.
 */
export interface TranslationWarning {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly message: string;
  /** The step's index when the warning is about one step. */
  readonly step?: number;
}

/**
 * `file:line:column: warning: message`, as `cidev translate` prints it.
 *
 * @example
 *   formatTranslationWarning(w); // ".github/workflows/ci.yml:12:9: warning: uses: docker/login-action@v3 is not supported…"
 */
export function formatTranslationWarning(warning: TranslationWarning): string {
  return `${warning.file}:${warning.line}:${warning.column}: warning: ${warning.message}`;
}
