import { lexer, parser } from "kdljs/src/parser/kdl.js";
import type { KdlSyntaxProblem } from "./kdl-document.ts";
import { SourceLines } from "./source-lines.ts";
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

function locationOf(error: KdlParseError, source: string): SourceLocation {
  const line = error.token?.startLine;
  const column = error.token?.startColumn;
  if (line === undefined || column === undefined || Number.isNaN(line) || Number.isNaN(column)) {
    return new SourceLines(source).end();
  }
  return { line, column };
}

/** What the parser found, after "unexpected". */
function describeFound(image: string | undefined): string {
  if (image === undefined || image === "") return "end of the file";
  if (/^[\n\r\v\f\u0085\u2028\u2029]/.test(image)) return "end of the line";
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

/** The part of a kdljs error we read here. */
interface KdljsError {
  readonly token?: { readonly startOffset?: number; readonly tokenType?: { readonly name?: string } };
}

/**
 * The errors to report for a text kdljs rejects. kdljs does not parse a text its lexer rejects and
 * reports only the lexing errors, however far into the text. The parser's first error over the
 * whole nodes before the first of them (up to the last newline or `;` before it: a cut inside a
 * node would be an error of the cut) is an earlier and real one, when there is one.
 */
function firstErrors(source: string, errors: readonly unknown[]): readonly unknown[] {
  const lexing = (errors[0] ?? {}) as KdljsError;
  const at = lexing.token?.startOffset;
  if (lexing.token?.tokenType?.name !== "Unknown" || at === undefined) return errors;
  const tokens = lexer.tokenize(source).tokens;
  let end = -1;
  tokens.forEach((t, i) => {
    const name = t.tokenType.name;
    if (t.startOffset < at && (name === "NewLine" || name === "SemiColon")) end = i;
  });
  if (end < 0) return errors;
  parser.input = tokens.slice(0, end + 1);
  parser.document();
  const parsing = (parser.errors[0] ?? {}) as KdljsError;
  // Running out of those tokens is no error of the text (its offset is NaN).
  return (parsing.token?.startOffset ?? Number.NaN) < at ? [...parser.errors] : errors;
}

/**
 * Turns kdljs's first error into a `KdlSyntaxProblem` that says, in words, what is wrong and
 * where. Later errors are consequences of the first and are not reported.
 */
export function kdlV2SyntaxProblem(errors: readonly unknown[], source: string): KdlSyntaxProblem {
  const error = (firstErrors(source, errors)[0] ?? {}) as KdlParseError;
  const message = error.message ?? "invalid KDL";
  const at = locationOf(error, source);
  const image = error.token?.image;
  const problem = (location: SourceLocation, detail: string, hint?: string): KdlSyntaxProblem => ({
    version: 2,
    location,
    detail,
    hint,
    cause: error,
  });

  // KDL 1 spellings of keywords, which KDL 2 writes with `#`.
  const rest = source.slice(new SourceLines(source).offsetOf(at));
  const keyword = /^=[\t ]*(true|false|null)\b/.exec(rest) ?? /^(true|false|null)\b/.exec(rest);
  if (keyword !== null) {
    const word = keyword[1]!;
    const column = at.column + keyword[0].length - word.length;
    return problem(
      { line: at.line, column },
      `\`${word}\` is not a KDL 2 value; write #${word}`,
      "KDL 2 writes booleans and null as #true, #false, #null",
    );
  }
  if (message.startsWith("unexpected character")) {
    if (image !== undefined && /^[\n\r\v\f\u0085\u2028\u2029]/.test(image)) {
      return problem(
        at,
        "string not closed before the end of the line",
        'close the string with `"`, or use a multi-line string: """ ... """',
      );
    }
    return problem(at, `unexpected character ${describeFound(image)}`);
  }
  if (image === "" || image === undefined) {
    const brace = unclosedBrace(source);
    if (brace !== undefined) {
      return problem(
        at,
        `unexpected end of the file: the \`{\` at ${brace.line}:${brace.column} is never closed`,
        "add the missing `}`",
      );
    }
  }
  if (!message.startsWith("Expecting")) {
    // kdljs's own messages ("Bare identifier string must not be a keyword", ...) read well.
    return problem(at, message.charAt(0).toLowerCase() + message.slice(1));
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
  return problem(at, detail, hint);
}
