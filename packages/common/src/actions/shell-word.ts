// Values written into the guest's shell scripts travel inside single quotes, where nothing is
// special but the single quote itself (POSIX sh, ksh93, bash, busybox ash alike).

/**
 * `value` as one shell word.
 *
 * @example
 *   shellWord("it's $HOME"); // 'it'\''s $HOME'
 */
export function shellWord(value: string): string {
  if (value.includes("\0")) throw new TypeError("a shell word cannot contain a NUL character");
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
