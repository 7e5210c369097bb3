import { data, Evaluator, type Expr, Lexer, Parser } from "@actions/expressions";
import type { FunctionDefinition, FunctionInfo } from "@actions/expressions/funcs/info";
import { type Token, TokenType } from "@actions/expressions/lexer";
import { toExpressionData } from "./expression-data.ts";

// Parsing and evaluating `${{ }}` expressions with GitHub's own `@actions/expressions`: its
// lexer, parser, evaluator, operators and functions (contains, startsWith, endsWith, format,
// join, toJSON, fromJSON, case). Added here: the status functions, which need the job's status,
// and `hashFiles`, which is refused (the files are in the VM, not where expressions are evaluated).

/** The job's status when a step is reached, for `success()`, `failure()`, `cancelled()`. */
export type ActionsJobStatus = "success" | "failure" | "cancelled";

/**
 * What the status functions answer, when it is not one status: a job's own `if` reads its
 * `needs` (success() only if every needed job succeeded; failure() if any failed).
 */
export interface StatusAnswers {
  readonly success: boolean;
  readonly failure: boolean;
  readonly cancelled: boolean;
}

/** Every context name an expression may read. */
export const CONTEXT_NAMES = [
  "github",
  "env",
  "vars",
  "secrets",
  "matrix",
  "needs",
  "inputs",
  "runner",
  "job",
  "strategy",
  "steps",
] as const;

/** A context name. */
export type ContextName = (typeof CONTEXT_NAMES)[number];

/** The status functions, evaluated against the job's status. */
export const STATUS_FUNCTIONS: ReadonlySet<string> = new Set(["success", "failure", "cancelled", "always"]);

const FUNCTION_INFOS: FunctionInfo[] = [
  { name: "success", minArgs: 0, maxArgs: 0 },
  { name: "failure", minArgs: 0, maxArgs: 0 },
  { name: "cancelled", minArgs: 0, maxArgs: 0 },
  { name: "always", minArgs: 0, maxArgs: 0 },
  { name: "hashFiles", minArgs: 1, maxArgs: 255 },
];

/** The message `hashFiles()` fails with. */
export const HASH_FILES_REFUSED =
  "hashFiles() is not supported by Solstice CI: the files are in the job's VM, not where expressions are evaluated; compute the hash in a run step instead (e.g. `cat $(find . -name '*.lock' | sort) | sha256sum`)";

/** An expression that does not parse, or fails while evaluated; `message` says why. */
export class ExpressionFailure {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/**
 * Parses an expression (without `${{ }}`); returns an `ExpressionFailure` when it does not parse.
 *
 * @example
 *   parseExpression("github.ref == 'refs/heads/main'"); // an Expr
 */
export function parseExpression(expression: string): Expr | ExpressionFailure {
  try {
    const lexed = new Lexer(expression).lex();
    return new Parser(lexed.tokens.map(unescapeStringToken), [...CONTEXT_NAMES], FUNCTION_INFOS).parse();
  } catch (error) {
    return new ExpressionFailure(messageOf(error));
  }
}

/**
 * The lexer of @actions/expressions 0.3.x unescapes only the first `''` of a string literal
 * (`value.replace("''", "'")`), so `format('a ''x'' b')` read as `a 'x'' b` and a script with
 * two quoted words broke. Its lexeme is exact: take the value from it, every `''` unescaped.
 */
function unescapeStringToken(token: Token): Token {
  if (token.type !== TokenType.STRING || token.lexeme.length < 2) return token;
  return { ...token, value: token.lexeme.slice(1, -1).replaceAll("''", "'") };
}

/** The contexts an expression reads, as plain JSON-like values (absent ones read as null). */
export type ExpressionContexts = Partial<Record<ContextName, unknown>>;

function functions(status: ActionsJobStatus | StatusAnswers | undefined): Map<string, FunctionDefinition> {
  const answers: StatusAnswers | undefined =
    typeof status === "string"
      ? { success: status === "success", failure: status === "failure", cancelled: status === "cancelled" }
      : status;
  const statusFunction = (name: string, value: () => boolean): FunctionDefinition => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => {
      if (answers === undefined && name !== "always") {
        // Translation never asks: conditions with status functions are left for execution.
        throw new Error(`${name}() is only known when the step is reached`);
      }
      return new data.BooleanData(value());
    },
  });
  return new Map<string, FunctionDefinition>([
    ["success", statusFunction("success", () => answers?.success === true)],
    ["failure", statusFunction("failure", () => answers?.failure === true)],
    ["cancelled", statusFunction("cancelled", () => answers?.cancelled === true)],
    ["always", statusFunction("always", () => true)],
    [
      "hashfiles",
      {
        name: "hashFiles",
        minArgs: 1,
        maxArgs: 255,
        call: () => {
          throw new Error(HASH_FILES_REFUSED);
        },
      },
    ],
  ]);
}

/** Contexts as one dictionary, every known name present (the evaluator needs them all). */
export function contextDictionary(contexts: ExpressionContexts): data.Dictionary {
  const dictionary = new data.Dictionary();
  for (const name of CONTEXT_NAMES) {
    const value = contexts[name];
    dictionary.add(name, value === undefined ? new data.Dictionary() : toExpressionData(value));
  }
  return dictionary;
}

/**
 * Evaluates a parsed expression. `status` is the job's status for the status functions (undefined
 * at translation time). Returns an `ExpressionFailure` for an error while evaluating.
 */
export function evaluateParsed(
  expr: Expr,
  contexts: data.Dictionary,
  status?: ActionsJobStatus | StatusAnswers,
): data.ExpressionData | ExpressionFailure {
  try {
    return new Evaluator(expr, contexts, functions(status)).evaluate();
  } catch (error) {
    return new ExpressionFailure(messageOf(error));
  }
}

/**
 * Parses and evaluates `expression` over `contexts`.
 *
 * @example
 *   evaluateExpression("format('{0}-{1}', matrix.os, 1)", { matrix: { os: "omnios" } }); // StringData "omnios-1"
 */
export function evaluateExpression(
  expression: string,
  contexts: ExpressionContexts | data.Dictionary,
  status?: ActionsJobStatus | StatusAnswers,
): data.ExpressionData | ExpressionFailure {
  const expr = parseExpression(expression);
  if (expr instanceof ExpressionFailure) return expr;
  const dictionary = contexts instanceof data.Dictionary ? contexts : contextDictionary(contexts);
  return evaluateParsed(expr, dictionary, status);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
