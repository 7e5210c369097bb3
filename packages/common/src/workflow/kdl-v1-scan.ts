// A plain scan of a KDL 1 text for what its parser (@bgotink/kdl) does not report where a user
// needs it: the opening of a string, comment or `{` that is never closed (the parser stops at the
// end of the file), and an escape KDL 1 does not have (the parser keeps `\q` as is; the
// original's `kdl` crate rejects it, and so do we).

/** A string or comment opened and never closed. */
export interface OpenedAt {
  readonly kind: "string" | "raw string" | "comment";
  /** Offset of its first character (`"`, `r`, `/`). */
  readonly offset: number;
}

/** What the scan found. */
export interface KdlV1Scan {
  /** A string or comment that runs to the end of the text (the scan stops there). */
  readonly open: OpenedAt | undefined;
  /** Offsets of the `{`s never closed, outermost first. */
  readonly braces: readonly number[];
  /** Offset of the first `\` in a string that starts no KDL 1 escape. */
  readonly badEscape: number | undefined;
}

const NEWLINE = /[\n\r\f\u0085\u2028\u2029]/;
// What may not precede the `r` of a raw string: an identifier character (then the `r` is part of
// a name). KDL 1 identifiers exclude these characters and whitespace.
const NOT_IDENTIFIER = /[\s\\/(){}<>;[\]=,"]/;
const RAW_OPEN = /r(#*)"/y;
// KDL 1's escapes: \" \\ \/ \b \f \n \r \t and \u{1 to 6 hex digits}.
const ESCAPE = /\\(?:["\\/bfnrt]|u\{[0-9a-fA-F]{1,6}\})/y;

/** Skips a `/* … *\/` comment (they nest); the offset after it, or -1 when it never closes. */
function skipBlockComment(source: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < source.length) {
    if (source.startsWith("/*", i)) {
      depth += 1;
      i += 2;
    } else if (source.startsWith("*/", i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return -1;
}

/** Scans a `"…"` string: the offset after it (-1 when it never closes) and its first bad escape. */
function scanString(source: string, start: number): { end: number; badEscape: number | undefined } {
  let badEscape: number | undefined;
  let i = start + 1;
  while (i < source.length) {
    const c = source[i];
    if (c === '"') return { end: i + 1, badEscape };
    if (c === "\\") {
      ESCAPE.lastIndex = i;
      const known = ESCAPE.exec(source);
      if (known === null) badEscape ??= i;
      i += known === null ? 2 : known[0].length;
    } else {
      i += 1;
    }
  }
  return { end: -1, badEscape };
}

/** Scans a KDL 1 text for unclosed strings, comments and `{`s, and for escapes KDL 1 lacks. */
export function scanKdlV1(source: string): KdlV1Scan {
  const braces: number[] = [];
  let badEscape: number | undefined;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (source.startsWith("//", i)) {
      while (i < source.length && !NEWLINE.test(source[i]!)) i += 1;
    } else if (source.startsWith("/*", i)) {
      const end = skipBlockComment(source, i);
      if (end < 0) return { open: { kind: "comment", offset: i }, braces, badEscape };
      i = end;
    } else if (c === '"') {
      const string = scanString(source, i);
      badEscape ??= string.badEscape;
      if (string.end < 0) return { open: { kind: "string", offset: i }, braces, badEscape };
      i = string.end;
    } else if (c === "r" && (i === 0 || NOT_IDENTIFIER.test(source[i - 1]!))) {
      RAW_OPEN.lastIndex = i;
      const open = RAW_OPEN.exec(source);
      if (open === null) {
        i += 1;
      } else {
        const close = source.indexOf(`"${open[1]}`, i + open[0].length);
        if (close < 0) return { open: { kind: "raw string", offset: i }, braces, badEscape };
        i = close + 1 + open[1]!.length;
      }
    } else {
      if (c === "{") braces.push(i);
      else if (c === "}") braces.pop();
      i += 1;
    }
  }
  return { open: undefined, braces, badEscape };
}
