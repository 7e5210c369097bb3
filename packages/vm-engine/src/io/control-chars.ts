// Terminal control sequences in guest output (boot consoles colour their messages, programs draw
// progress bars) mean nothing in a job log; they are removed so log lines are plain text.

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC strings, then any other
// two-byte ESC sequence. The 8-bit C1 forms (U+009B CSI, U+009D OSC) are handled the same way.
const ESCAPE_SEQUENCE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?|\x1b[ -/]*[0-~]?/g;
// C0 controls except TAB, DEL, and the remaining C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTER = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * Remove ANSI/VT escape sequences and control characters (keeping TAB) from one line of text.
 *
 * @example
 *   stripControlSequences("\x1b[32mOK\x1b[0m done\x07"); // "OK done"
 */
export function stripControlSequences(text: string): string {
  // Fast path: most lines have nothing to strip.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (!/[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(text)) return text;
  return text.replace(ESCAPE_SEQUENCE, "").replace(CONTROL_CHARACTER, "");
}

/**
 * What a terminal shows for a line containing carriage returns: a progress bar rewrites its line
 * with `\r`; the log keeps the last non-empty rewrite, not every frame glued together.
 *
 * @example
 *   resolveCarriageReturns("10%\r50%\r100%"); // "100%"
 */
export function resolveCarriageReturns(line: string): string {
  if (!line.includes("\r")) return line;
  const parts = line.split("\r");
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    if (part !== "") return part;
  }
  return "";
}
