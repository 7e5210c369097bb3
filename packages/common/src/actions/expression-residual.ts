import { data, type Expr } from "@actions/expressions";
import {
  Binary,
  ContextAccess,
  FunctionCall,
  Grouping,
  IndexAccess,
  Literal,
  Logical,
  Star,
  Unary,
} from "@actions/expressions/ast";
import { fromExpressionData, isTruthy } from "./expression-data.ts";
import {
  ExpressionFailure,
  evaluateParsed,
  HASH_FILES_REFUSED,
  parseExpression,
  STATUS_FUNCTIONS,
} from "./expression-evaluator.ts";

// Partial evaluation: what can be known when the job is translated is evaluated then, and what
// depends on the job's run — the status functions, `steps.<id>.*`, `job.status`, and `env`
// variables that only a step can set (through GITHUB_ENV) — is kept as an expression for the
// executor. Known values are written into that expression as literals, so the executor needs
// no other context than the run's own state (and never sees `secrets`, `matrix`… again).

/** What is left of an expression after translation: a known value, or an expression to evaluate later. */
export type Residual =
  | { readonly kind: "static"; readonly value: data.ExpressionData }
  | { readonly kind: "runtime"; readonly expression: string };

/** How to tell runtime from translation-time data. */
export interface ResidualOptions {
  /** The contexts known at translation time. */
  readonly contexts: data.Dictionary;
  /**
   * Lower-cased names of the `env` variables known now. A reference to another `env` variable
   * is left for the executor (a step may set it through GITHUB_ENV). Undefined: all are known.
   */
  readonly knownEnv?: ReadonlySet<string>;
  /**
   * `condition` for an `if`, where only truthiness matters: known arguments of `&&`/`||` that
   * cannot change it are dropped (`success() && true` → `success()`).
   */
  readonly mode: "value" | "condition";
}

type Reduced = { readonly value: data.ExpressionData } | { readonly text: string; readonly atomic: boolean };

/** Internal: carries an evaluation failure out of the recursion. */
class Failed {
  readonly failure: ExpressionFailure;
  constructor(failure: ExpressionFailure) {
    this.failure = failure;
  }
}

/**
 * Evaluates what is known of `expression` now and returns the value, or the expression left for
 * the executor with known parts written as literals; `ExpressionFailure` when it cannot be parsed
 * or evaluated (or calls `hashFiles`).
 *
 * @example
 *   residualExpression("steps.a.outputs.v == matrix.os", { contexts, mode: "value" });
 *   // { kind: "runtime", expression: "steps.a.outputs.v == 'omnios'" }
 */
export function residualExpression(
  expression: string,
  options: ResidualOptions,
): Residual | ExpressionFailure {
  const expr = parseExpression(expression);
  if (expr instanceof ExpressionFailure) return expr;
  try {
    const reduced = new Reducer(options).reduce(expr, options.mode === "condition");
    return "value" in reduced
      ? { kind: "static", value: reduced.value }
      : { kind: "runtime", expression: reduced.text };
  } catch (error) {
    if (error instanceof Failed) return error.failure;
    throw error;
  }
}

class Reducer {
  readonly #options: ResidualOptions;

  constructor(options: ResidualOptions) {
    this.#options = options;
  }

  /** `truthOnly`: the node is in a boolean context (an `if`, or under `!`, `&&`, `||` there). */
  reduce(node: Expr, truthOnly = false): Reduced {
    if (node instanceof Literal) return { value: node.literal };
    if (node instanceof ContextAccess) {
      if (node.name.lexeme.toLowerCase() === "steps") return { text: node.name.lexeme, atomic: true };
      return this.#evaluate(node);
    }
    if (node instanceof IndexAccess) return this.#index(node);
    if (node instanceof FunctionCall) return this.#call(node);
    if (node instanceof Logical) return this.#logical(node, truthOnly);
    if (node instanceof Grouping) {
      const inner = this.reduce(node.group, truthOnly);
      return "value" in inner ? inner : { text: `(${inner.text})`, atomic: true };
    }
    if (node instanceof Unary) {
      const inner = this.reduce(node.expr, true);
      if ("value" in inner) return this.#evaluate(node);
      return { text: `${node.operator.lexeme}${wrap(inner)}`, atomic: false };
    }
    if (node instanceof Binary) {
      const left = this.reduce(node.left);
      const right = this.reduce(node.right);
      if ("value" in left && "value" in right) return this.#evaluate(node);
      return { text: `${wrap(left)} ${node.operator.lexeme} ${wrap(right)}`, atomic: false };
    }
    return this.#evaluate(node);
  }

  #index(node: IndexAccess): Reduced {
    const base = node.expr;
    if (base instanceof ContextAccess && !(node.index instanceof Star)) {
      const context = base.name.lexeme.toLowerCase();
      const key = literalKey(node.index);
      if (context === "env" && this.#options.knownEnv !== undefined) {
        if (key === undefined || !this.#options.knownEnv.has(key.toLowerCase())) {
          return { text: printIndex(base.name.lexeme, node.index, this.reduce(node.index)), atomic: true };
        }
      }
      if (context === "job" && key?.toLowerCase() === "status") {
        return { text: `${base.name.lexeme}.${key}`, atomic: true };
      }
    }
    const object = this.reduce(base);
    const index = node.index instanceof Star ? undefined : this.reduce(node.index);
    if ("value" in object && (index === undefined || "value" in index)) return this.#evaluate(node);
    return { text: printIndex(wrap(object), node.index, index), atomic: true };
  }

  #call(node: FunctionCall): Reduced {
    const name = node.functionName.lexeme;
    const lower = name.toLowerCase();
    if (lower === "hashfiles") throw new Failed(new ExpressionFailure(HASH_FILES_REFUSED));
    if (STATUS_FUNCTIONS.has(lower)) {
      // Left to the executor, always() too: a condition that names no status function gets an
      // implicit `success() &&` there, so `always() && x` must keep its always().
      return { text: `${name}()`, atomic: true };
    }
    const args = node.args.map((arg) => this.reduce(arg));
    if (args.every((arg) => "value" in arg)) return this.#evaluate(node);
    return { text: `${name}(${args.map(print).join(", ")})`, atomic: true };
  }

  // `a && b` is the first falsy argument or the last one; `a || b` the first truthy or the last.
  // Known arguments are resolved where that keeps the value (in a condition: the truth) the same.
  #logical(node: Logical, truthOnly: boolean): Reduced {
    const isAnd = node.operator.lexeme === "&&";
    const kept: Reduced[] = [];
    const args = node.args;
    for (let i = 0; i < args.length; i++) {
      const arg = this.reduce(args[i]!, truthOnly);
      if (!("value" in arg)) {
        kept.push(arg);
        continue;
      }
      const decisive = isAnd ? !isTruthy(arg.value) : isTruthy(arg.value);
      if (decisive) {
        // In a condition the answer is now known, whatever the runtime arguments before say.
        if (truthOnly) return arg;
        kept.push(arg);
        break;
      }
      // A neutral argument matters only as the value of the whole when it comes last.
      const last = i === args.length - 1;
      if (last && (kept.length === 0 || !truthOnly)) kept.push(arg);
    }
    if (kept.length === 1) return kept[0]!;
    return { text: kept.map(wrap).join(` ${node.operator.lexeme} `), atomic: false };
  }

  #evaluate(node: Expr): Reduced {
    const value = evaluateParsed(node, this.#options.contexts);
    if (value instanceof ExpressionFailure) throw new Failed(value);
    return { value };
  }
}

function literalKey(index: Expr): string | undefined {
  if (index instanceof Literal && index.literal.kind === data.Kind.String) {
    return (index.literal as data.StringData).value;
  }
  return undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function printIndex(base: string, index: Expr, reduced: Reduced | undefined): string {
  if (index instanceof Star || reduced === undefined) return `${base}.*`;
  const key = literalKey(index);
  if (key !== undefined && IDENTIFIER.test(key)) return `${base}.${key}`;
  return `${base}[${print(reduced)}]`;
}

function print(reduced: Reduced): string {
  return "value" in reduced ? literal(reduced.value) : reduced.text;
}

function wrap(reduced: Reduced): string {
  if ("value" in reduced) return literal(reduced.value);
  return reduced.atomic ? reduced.text : `(${reduced.text})`;
}

/**
 * A value as an expression literal: `'text'` (quotes doubled), numbers, `true`, `false`, `null`;
 * anything else (objects, arrays, unusual numbers) as `fromJSON('…')`.
 */
export function literal(value: data.ExpressionData): string {
  switch (value.kind) {
    case data.Kind.Null:
      return "null";
    case data.Kind.Boolean:
      return (value as data.BooleanData).value ? "true" : "false";
    case data.Kind.String:
      return quote((value as data.StringData).value);
    case data.Kind.Number: {
      const text = String((value as data.NumberData).number());
      if (/^\d+(\.\d+)?$/.test(text)) return text;
      return `fromJSON(${quote(JSON.stringify(fromExpressionData(value)))})`;
    }
    default:
      return `fromJSON(${quote(JSON.stringify(fromExpressionData(value)))})`;
  }
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
