// A step's `if`, evaluated when the step is reached. The runner services evaluate everything that
// depends on contexts before publishing; what is left for the engine is the job status: the
// Actions status functions success(), failure(), always(), cancelled(), combined with !, &&, ||,
// parentheses and the literals true/false. As in Actions, a condition without a status function
// runs only while the job is succeeding (`true` means `success() && true`).

/** The job's status when a step is reached. */
export type JobStatus = "success" | "failure" | "cancelled";

type Token = { kind: "op"; value: "!" | "&&" | "||" | "(" | ")" } | { kind: "word"; value: string };

const STATUS_FUNCTIONS = new Set(["success", "failure", "always", "cancelled"]);

/** Internal: a condition outside the supported subset (turned into a result by the caller). */
class UnsupportedConditionError extends Error {}

/** The verdict on a step's condition, or why it cannot be evaluated. */
export type ConditionResult = { readonly run: boolean } | { readonly error: string };

/**
 * Should a step with condition `condition` run when the job is `status`? An absent or empty
 * condition means `success()`. Anything else than status functions, `!`, `&&`, `||`,
 * parentheses, `true` and `false` gives `{ error }` saying what is not supported.
 *
 * @example
 *   evaluateStepCondition(undefined, "failure");          // { run: false }
 *   evaluateStepCondition("always()", "failure");         // { run: true }
 *   evaluateStepCondition("${{ failure() }}", "failure"); // { run: true }
 */
export function evaluateStepCondition(condition: string | undefined, status: JobStatus): ConditionResult {
  try {
    return { run: evaluate(condition, status) };
  } catch (error) {
    if (error instanceof UnsupportedConditionError) return { error: error.message };
    throw error;
  }
}

function evaluate(condition: string | undefined, status: JobStatus): boolean {
  const text = unwrapExpression(condition ?? "");
  if (text === "") return status === "success";
  const tokens = tokenize(text);
  let position = 0;
  let usesStatusFunction = false;

  const peek = (): Token | undefined => tokens[position];
  const expectOp = (value: string): void => {
    const token = tokens[position];
    if (token?.kind !== "op" || token.value !== value) {
      throw new UnsupportedConditionError(`expected "${value}" in condition ${JSON.stringify(text)}`);
    }
    position += 1;
  };
  const parseOr = (): boolean => {
    let value = parseAnd();
    for (let token = peek(); token?.kind === "op" && token.value === "||"; token = peek()) {
      position += 1;
      const right = parseAnd();
      value = value || right;
    }
    return value;
  };
  const parseAnd = (): boolean => {
    let value = parseUnary();
    for (let token = peek(); token?.kind === "op" && token.value === "&&"; token = peek()) {
      position += 1;
      const right = parseUnary();
      value = value && right;
    }
    return value;
  };
  const parseUnary = (): boolean => {
    const token = peek();
    if (token?.kind === "op" && token.value === "!") {
      position += 1;
      return !parseUnary();
    }
    return parsePrimary();
  };
  const parsePrimary = (): boolean => {
    const token = tokens[position];
    if (token === undefined)
      throw new UnsupportedConditionError(`condition ${JSON.stringify(text)} ends too early`);
    position += 1;
    if (token.kind === "op") {
      if (token.value !== "(") {
        throw new UnsupportedConditionError(
          `unexpected "${token.value}" in condition ${JSON.stringify(text)}`,
        );
      }
      const value = parseOr();
      expectOp(")");
      return value;
    }
    const word = token.value.toLowerCase();
    if (word === "true") return true;
    if (word === "false") return false;
    if (STATUS_FUNCTIONS.has(word)) {
      expectOp("(");
      expectOp(")");
      usesStatusFunction = true;
      if (word === "always") return true;
      return word === status;
    }
    throw new UnsupportedConditionError(
      `"${token.value}" in condition ${JSON.stringify(text)}: only success(), failure(), always(), cancelled(), true, false, !, && and || are evaluated in the VM engine`,
    );
  };

  const value = parseOr();
  if (position !== tokens.length) {
    throw new UnsupportedConditionError(`unexpected text after the condition in ${JSON.stringify(text)}`);
  }
  return usesStatusFunction ? value : status === "success" && value;
}

/** `${{ expr }}` → `expr`; anything else is returned trimmed. */
function unwrapExpression(condition: string): string {
  const trimmed = condition.trim();
  const match = /^\$\{\{([\s\S]*)\}\}$/.exec(trimmed);
  return (match?.[1] ?? trimmed).trim();
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(&&|\|\||!|\(|\))|([A-Za-z_][A-Za-z0-9_]*))/y;
  let index = 0;
  while (index < text.length) {
    if (/^\s+$/.test(text.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (match === null) {
      throw new UnsupportedConditionError(
        `cannot read condition ${JSON.stringify(text)} at "${text.slice(index).trim()}"`,
      );
    }
    if (match[1] !== undefined) tokens.push({ kind: "op", value: match[1] as "!" | "&&" | "||" | "(" | ")" });
    else tokens.push({ kind: "word", value: match[2]! });
    index = pattern.lastIndex;
  }
  return tokens;
}
