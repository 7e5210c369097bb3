import type { InvalidKdlError } from "@bgotink/kdl";
import type { KdlSyntaxProblem } from "./kdl-document.ts";
import { scanKdlV1 } from "./kdl-v1-scan.ts";
import { SourceLines } from "./source-lines.ts";

// @bgotink/kdl's KDL 1 errors in the words the KDL 2 errors use ("unexpected X; expected Y"), at
// the place to fix: the opening of what is never closed rather than the end of the file.

const END_OF_NODE = "the end of the node (a newline or `;`)";

// The parser's messages that say what it wanted, in words.
const EXPECTED: Readonly<Record<string, string>> = {
  "Invalid node children": "a node or `}`",
  "Couldn't find node name": "a node name",
  "Invalid tag, did you forget to quote a string?": "a type name (quote it if it is not a plain word)",
};

/** The earliest of the parser's errors: the later ones follow from it. */
function firstError(error: InvalidKdlError): InvalidKdlError {
  let first = error;
  let firstOffset = Number.POSITIVE_INFINITY;
  for (const detail of error.flat()) {
    const offset = detail.start?.offset ?? Number.POSITIVE_INFINITY;
    if (offset < firstOffset) {
      first = detail;
      firstOffset = offset;
    }
  }
  return first;
}

/** What the parser found, after "unexpected". */
function describeFound(text: string | undefined): string {
  if (text === undefined || text === "") return "end of the file";
  if (/^[\n\r\f\u0085\u2028\u2029]/.test(text)) return "end of the line";
  const shown = text.length > 30 ? `${text.slice(0, 30)}…` : text;
  return `\`${shown}\``;
}

/** What the text holds at `offset`, in words: its first word, or the end of the line or file. */
function describeTextAt(source: string, offset: number): string {
  const rest = source.slice(offset, offset + 80);
  return describeFound(/^[\n\r\f\u0085\u2028\u2029]/.test(rest) ? rest : rest.split(/[\s;]/)[0]);
}

/** The bare word that ends just before `offset` (whitespace between), with its start. */
function wordBefore(source: string, offset: number): { start: number; word: string } | undefined {
  // A window, so that the anchored match stays linear in long texts.
  const from = Math.max(0, offset - 200);
  const before = /([^\s\\/(){}<>;[\]=,"]+)[\t \u00a0]*$/.exec(source.slice(from, offset));
  return before === null ? undefined : { start: from + before.index, word: before[1]! };
}

/** What to say about a value KDL 1 does not have, by how it starts. */
function valueHint(found: string): string {
  if (/^#(?:true|false|null)\b/.test(found)) return "KDL 1 writes true, false and null without `#`";
  if (/^#+"/.test(found)) return 'KDL 1 raw strings start with r: r#"..."#';
  if (found.startsWith('"""')) return 'KDL 1 has no """ strings: a "..." string may span lines';
  const word = /^[^\s\\/(){}<>;[\]=,"#]+/.exec(found)?.[0];
  if (word !== undefined) return `a string is quoted in KDL 1: "${word}"`;
  return 'a value is a "string", a number, true, false or null';
}

/** The problem of a text that ends inside a string, comment or `{ }` block, if it does. */
function unclosedProblem(source: string, lines: SourceLines, cause: unknown): KdlSyntaxProblem | undefined {
  const scan = scanKdlV1(source);
  const problem = (at: number, detail: string, hint: string): KdlSyntaxProblem => ({
    version: 1,
    location: lines.locationOf(at),
    detail,
    hint,
    cause,
  });
  if (scan.open !== undefined) {
    const { kind, offset } = scan.open;
    if (kind === "comment") return problem(offset, "`/*` comment never closed", "close it with `*/`");
    return problem(
      offset,
      `${kind} never closed: it runs on to the end of the file`,
      kind === "string" ? 'close it with `"`' : 'close it with `"` and as many `#` as it opens with',
    );
  }
  const brace = scan.braces[0];
  if (brace === undefined) return undefined;
  const at = lines.locationOf(brace);
  return problem(
    source.length,
    `unexpected end of the file: the \`{\` at ${at.line}:${at.column} is never closed`,
    "add the missing `}`",
  );
}

/**
 * Turns @bgotink/kdl's error for a KDL 1 text into a `KdlSyntaxProblem` that says, in words, what
 * is wrong and where.
 */
export function kdlV1SyntaxProblem(error: InvalidKdlError, source: string): KdlSyntaxProblem {
  const lines = new SourceLines(source);
  const first = firstError(error);
  const reported = first.start?.offset ?? source.length;
  // The parser may stop on the space before what is wrong: point at that instead.
  const offset = reported + (/^[\t \u00a0\ufeff]*/.exec(source.slice(reported))?.[0].length ?? 0);
  const atEnd = offset >= source.length;
  const text = atEnd
    ? undefined
    : offset === reported
      ? first.token?.text
      : source.slice(offset).split(/\s/)[0];
  const found = describeFound(text);
  const reason = first.message.replace(/ at (?:\d+:\d+|end of input)$/, "");
  const problem = (at: number, detail: string, hint?: string): KdlSyntaxProblem => ({
    version: 1,
    location: lines.locationOf(at),
    detail,
    hint,
    cause: error,
  });

  if (atEnd) {
    const unclosed = unclosedProblem(source, lines, error);
    if (unclosed !== undefined) return unclosed;
  }
  if (reason === "Missing node terminator") {
    const hint =
      text === "}"
        ? 'in KDL 1 a node needs a newline or `;` before the `}` on its line: { step run="x"; }'
        : text === "="
          ? 'a property needs its value right after `=`: key="value"'
          : undefined;
    return problem(offset, `unexpected ${found}; expected ${END_OF_NODE}`, hint);
  }
  if (reason.startsWith("Unexpected token")) {
    const hint = text === "}" ? "this `}` closes nothing: check the braces above it" : undefined;
    return problem(offset, `unexpected ${found}`, hint);
  }
  if (reason === "Expected a value") {
    return problem(
      offset,
      `unexpected ${describeTextAt(source, offset)}; expected a value`,
      valueHint(source.slice(offset, offset + 40)),
    );
  }
  if (reason === "Invalid argument") {
    // A type annotation with no value right after it.
    const onName = /^[^\s=]+=/.test(source.slice(offset, offset + 200));
    return problem(
      offset,
      `unexpected ${found}; expected a value right after the type annotation`,
      onName ? "in KDL 1 a type annotation goes on the value, not the name: key=(type)value" : undefined,
    );
  }
  const expected = EXPECTED[reason];
  if (expected !== undefined) return problem(offset, `unexpected ${found}; expected ${expected}`);
  if (reason.startsWith("Unexpected identifier")) {
    // Reported at the token after the word; the word is what to fix.
    const word = wordBefore(source, reported);
    if (word !== undefined) {
      return problem(
        word.start,
        `unexpected \`${word.word}\`: a bare word is not a value in KDL 1`,
        `quote it: "${word.word}"`,
      );
    }
  }
  return problem(offset, reason.charAt(0).toLowerCase() + reason.slice(1));
}

/** The problem of a text KDL 1's parser accepts with an escape KDL 1 does not have, if any. */
export function kdlV1EscapeProblem(source: string): KdlSyntaxProblem | undefined {
  const at = scanKdlV1(source).badEscape;
  if (at === undefined) return undefined;
  const written = source.slice(at, at + 2);
  return {
    version: 1,
    location: new SourceLines(source).locationOf(at),
    detail: `\`${written}\` is not a KDL 1 escape`,
    hint: 'KDL 1 escapes are \\n \\r \\t \\\\ \\/ \\" \\b \\f and \\u{hex}; for a backslash write \\\\, or use a raw string r"..."',
    cause: undefined,
  };
}

/**
 * The problem of a text on which the KDL 1 parser fails with something other than its syntax
 * error (seen: a string ending in `\` at the very end of the file): what is left open, if
 * anything, else the parser's own message.
 */
export function kdlV1FailureProblem(error: unknown, source: string): KdlSyntaxProblem {
  const lines = new SourceLines(source);
  return (
    unclosedProblem(source, lines, error) ?? {
      version: 1,
      location: { line: 1, column: 1 },
      detail: `not readable as KDL 1 (${error instanceof Error ? error.message : String(error)})`,
      hint: undefined,
      cause: error,
    }
  );
}
