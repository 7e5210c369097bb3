import { lexer } from "kdljs/src/parser/kdl.js";
import { WorkflowSyntaxError } from "../errors.ts";
import type { SourceLocation } from "./workflow-types.ts";

/** The part of a kdljs (chevrotain) parse error we read. */
interface KdlParseError {
  readonly name?: string;
  readonly message?: string;
  readonly token?: { readonly image?: string; readonly startLine?: number; readonly startColumn?: number };
}

const TOKEN_WORDS: Record<string, string> = {
  RightBrace: "`}`",
  LeftBrace: "`{`",
  RightParenthesis: "`)`",
  Equals: "`=`",
  EOF: "the end of the file",
  NewLine: "the end of the node (a newline or `;`)",
  SemiColon: "the end of the node (a newline or `;`)",
  LineComment: "the end of the node (a newline or `;`)",
  Identifier: "a name or value",
  OpenQuote: "a string",
  CloseQuote: 'a closing `"`',
  MultiLineCloseQuote: 'a closing `"""`',
};

function endOf(source: string): SourceLocation {
  const lines = source.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/);
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

function locationOf(error: KdlParseError, source: string): SourceLocation {
  const line = error.token?.startLine;
  const column = error.token?.startColumn;
  if (line === undefined || column === undefined || Number.isNaN(line) || Number.isNaN(column)) {
    return endOf(source);
  }
  return { line, column };
}

function describeFound(image: string | undefined): string {
  if (image === undefined || image === "") return "the end of the file";
  if (/^[\n\r\v\f\u0085\u2028\u2029]/.test(image)) return "the end of the line";
  const shown = image.length > 30 ? `${image.slice(0, 30)}…` : image;
  return `\`${shown}\``;
}

function expectedWords(message: string): string[] {
  const names = [...message.matchAll(/\[(\w+)\]|--> (\w+) <--/g)].map((m) => m[1] ?? m[2] ?? "");
  const words = names.map((n) => TOKEN_WORDS[n]).filter((w): w is string => w !== undefined);
  const unique = new Set(words);
  // The end of the file also ends a node: say it once.
  if (unique.has(TOKEN_WORDS["NewLine"]!)) unique.delete(TOKEN_WORDS["EOF"]!);
  return [...unique];
}

/** Where the first `{` that is never closed is, if any (from the lexer's tokens). */
function unclosedBrace(source: string): SourceLocation | undefined {
  const open: SourceLocation[] = [];
  for (const token of lexer.tokenize(source).tokens) {
    if (token.tokenType.name === "LeftBrace") {
      open.push({ line: token.startLine ?? 1, column: token.startColumn ?? 1 });
    } else if (token.tokenType.name === "RightBrace") open.pop();
  }
  return open[0];
}

/** Offset of a 1-based line and column in `source`. */
function offsetOf(source: string, at: SourceLocation): number {
  let offset = 0;
  for (let line = 1; line < at.line; line += 1) {
    const next = source.indexOf("\n", offset);
    if (next < 0) return source.length;
    offset = next + 1;
  }
  return offset + at.column - 1;
}

/**
 * Turns kdljs's first error into a `WorkflowSyntaxError` that says, in words, what is wrong
 * and where. Later errors are consequences of the first and are not reported.
 */
export function kdlSyntaxError(
  errors: readonly unknown[],
  source: string,
  file: string,
): WorkflowSyntaxError {
  const error = (errors[0] ?? {}) as KdlParseError;
  const message = error.message ?? "invalid KDL";
  const at = locationOf(error, source);
  const image = error.token?.image;

  // KDL 1 spellings of keywords, which KDL 2 (what kdljs reads) writes with `#`.
  const rest = source.slice(offsetOf(source, at));
  const keyword = /^=\s*(true|false|null)\b/.exec(rest) ?? /^(true|false|null)\b/.exec(rest);
  if (keyword !== null) {
    const word = keyword[1]!;
    const column = at.column + keyword[0].length - word.length;
    return new WorkflowSyntaxError(
      { file, line: at.line, column },
      `\`${word}\` is not a KDL 2 value; write #${word}`,
      { cause: error, hint: `KDL 2 writes booleans and null as #true, #false, #null` },
    );
  }
  if (message.startsWith("unexpected character")) {
    if (image !== undefined && /^[\n\r\v\f\u0085\u2028\u2029]/.test(image)) {
      return new WorkflowSyntaxError({ file, ...at }, "string not closed before the end of the line", {
        cause: error,
        hint: 'close the string with `"`, or use a multi-line string: """ ... """',
      });
    }
    return new WorkflowSyntaxError({ file, ...at }, `unexpected character ${describeFound(image)}`, {
      cause: error,
    });
  }
  if (image === "" || image === undefined) {
    const brace = unclosedBrace(source);
    if (brace !== undefined) {
      return new WorkflowSyntaxError(
        { file, ...at },
        `unexpected end of the file: the \`{\` at ${brace.line}:${brace.column} is never closed`,
        { cause: error, hint: "add the missing `}`" },
      );
    }
  }
  if (!message.startsWith("Expecting")) {
    // kdljs's own messages ("Bare identifier string must not be a keyword", ...) read well.
    return new WorkflowSyntaxError({ file, ...at }, message.charAt(0).toLowerCase() + message.slice(1), {
      cause: error,
    });
  }
  const expected = expectedWords(message);
  const detail =
    `unexpected ${describeFound(image)}` + (expected.length > 0 ? `; expected ${expected.join(" or ")}` : "");
  const hint =
    image === "="
      ? 'a property needs its value right after `=`: key="value"'
      : image === "}"
        ? "this `}` closes nothing: check the braces above it"
        : undefined;
  return new WorkflowSyntaxError(
    { file, ...at },
    detail,
    hint === undefined ? { cause: error } : { cause: error, hint },
  );
}
