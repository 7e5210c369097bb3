// Everything the engine sends to a guest shell is built here, quoted for a POSIX `sh` (dash,
// busybox ash, ksh93 on illumos): values travel inside single quotes, where nothing is special
// except the single quote itself.

/**
 * Quote `value` as one shell word.
 *
 * @example
 *   shQuote("it's $HOME"); // 'it'\''s $HOME'
 */
export function shQuote(value: string): string {
  if (value.includes("\0")) throw new TypeError("a shell word cannot contain a NUL character");
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A name a POSIX shell accepts as a variable name. */
export function isValidEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * Shell lines that set and export each variable, in order (later entries win). Written as
 * `NAME='value'; export NAME`, which every Bourne-family shell accepts. Throws a TypeError naming
 * the variable for a name a shell cannot hold (the caller turns it into a step error).
 *
 * @example
 *   renderEnvExports({ GREETING: "hello world" }); // ["GREETING='hello world'; export GREETING"]
 */
export function renderEnvExports(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => {
    if (!isValidEnvName(name))
      throw new TypeError(`invalid environment variable name ${JSON.stringify(name)}`);
    return `${name}=${shQuote(value)}; export ${name}`;
  });
}
