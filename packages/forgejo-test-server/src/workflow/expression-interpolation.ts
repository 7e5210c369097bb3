// When Forgejo stores a run it evaluates a job's `name` and `runs-on` (jobparser's Interpolate)
// with the matrix row, `vars` and the `github` context. This test server evaluates the simple
// references those fields use in practice — `matrix.os`, `matrix['os']`, `vars.RUNNER`,
// `github.ref_name` — and leaves any other expression as it is written. Expressions inside
// steps are never touched: the runner evaluates them.

/** The contexts a reference may read. */
export interface InterpolationContexts {
  readonly matrix: Readonly<Record<string, unknown>>;
  readonly vars: Readonly<Record<string, string>>;
  readonly github: Readonly<Record<string, unknown>>;
}

const EXPRESSION = /\$\{\{\s*(.*?)\s*\}\}/g;
const DOTTED = /^(matrix|vars|github)\.([A-Za-z_][A-Za-z0-9_-]*)$/;
const INDEXED = /^(matrix|vars|github)\[\s*'([^']*)'\s*\]$/;

/** `s` with each `${{ <simple reference> }}` replaced by its value; other expressions kept. */
export function interpolate(s: string, contexts: InterpolationContexts): string {
  return s.replace(EXPRESSION, (whole, expression: string) => {
    const found = DOTTED.exec(expression) ?? INDEXED.exec(expression);
    if (found === null) return whole;
    const [, contextName, key] = found;
    const context: Readonly<Record<string, unknown>> =
      contextName === "matrix" ? contexts.matrix : contextName === "vars" ? contexts.vars : contexts.github;
    // Actions expressions are case-insensitive in property names.
    const match = Object.keys(context).find((k) => k.toLowerCase() === (key ?? "").toLowerCase());
    return match === undefined ? "" : asExpressionString(context[match]);
  });
}

/** How an expression result becomes text: null as empty, objects as JSON. */
function asExpressionString(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
