// Secret values (JobRequest `mask`) never reach a job log: every line is masked before it is
// emitted, system lines included. A multi-line secret is masked line by line, since output is.

/** The replacement for a masked value, as Actions prints it. */
export const MASK = "***";

/**
 * A function that replaces every occurrence of every secret in a line by `***`. Longer values
 * are replaced first, so a secret containing another is masked whole.
 *
 * @example
 *   const mask = createLogMasker(["s3cret"]);
 *   mask("token=s3cret"); // "token=***"
 */
export function createLogMasker(secrets: readonly string[] | undefined): (line: string) => string {
  const values = [
    ...new Set(
      (secrets ?? [])
        .flatMap((secret) => secret.split(/\r?\n/))
        .map((value) => value.trim())
        .filter((value) => value.length > 0),
    ),
  ].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (line) => line;
  return (line) => {
    let masked = line;
    for (const value of values) {
      if (masked.includes(value)) masked = masked.replaceAll(value, MASK);
    }
    return masked;
  };
}
