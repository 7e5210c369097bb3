import { InvalidArgumentError } from "commander";

// `NAME=VALUE` flags (`--secret`, `--var`, `--env`, `--input`, `--matrix`), repeatable: each
// parsed and bounded as it is read, collected into one record (a later flag wins).

/** How many of one flag a command line may hold. */
export const MAX_ASSIGNMENTS = 256;
/** The longest name. */
export const MAX_ASSIGNMENT_NAME = 256;
/** The longest value (a secret may be a key file's text). */
export const MAX_ASSIGNMENT_VALUE = 64 * 1024;

/** Environment-variable style names: `--secret`, `--var`, `--env`. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Input and matrix keys may hold `-` too (`node-version`). */
export const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Splits `NAME=VALUE` at its first `=`.
 * @throws InvalidArgumentError (commander prints it as a usage error, exit 2)
 */
export function parseAssignment(text: string, names: RegExp): { name: string; value: string } {
  const at = text.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, got "${text.slice(0, 80)}"`);
  const name = text.slice(0, at);
  const value = text.slice(at + 1);
  if (name.length > MAX_ASSIGNMENT_NAME) {
    throw new InvalidArgumentError(`the name is longer than ${MAX_ASSIGNMENT_NAME} characters`);
  }
  if (!names.test(name)) throw new InvalidArgumentError(`"${name}" is not a valid name (${names.source})`);
  if (value.length > MAX_ASSIGNMENT_VALUE) {
    throw new InvalidArgumentError(`the value of ${name} is longer than ${MAX_ASSIGNMENT_VALUE} characters`);
  }
  return { name, value };
}

/**
 * A commander option parser collecting repeated `NAME=VALUE` flags into a record.
 *
 * @example
 *   new Option("--var <NAME=VALUE>").argParser(assignments(VARIABLE_NAME)).default({})
 */
export function assignments(
  names: RegExp,
): (text: string, previous: Readonly<Record<string, string>> | undefined) => Record<string, string> {
  return (text, previous) => {
    const { name, value } = parseAssignment(text, names);
    const out = { ...(previous ?? {}) };
    if (!(name in out) && Object.keys(out).length >= MAX_ASSIGNMENTS) {
      throw new InvalidArgumentError(`at most ${MAX_ASSIGNMENTS} of this flag`);
    }
    out[name] = value;
    return out;
  };
}
