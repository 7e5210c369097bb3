import type { TemplatePart } from "./actions-workflow.ts";

// Splitting a string into literal text and `${{ }}` expressions, the way GitHub's template reader
// does: an expression runs from `${{` to the first `}}` outside a single-quoted string literal.

const OPEN = "${{";
const CLOSE = "}}";

/**
 * The parts of `text`: literal strings and `{ expression }` (trimmed, without `${{ }}`). Empty
 * literal parts are left out. Undefined when a `${{` has no closing `}}`.
 *
 * @example
 *   splitTemplate("echo ${{ matrix.os }}!"); // ["echo ", { expression: "matrix.os" }, "!"]
 */
export function splitTemplate(text: string): TemplatePart[] | undefined {
  const parts: TemplatePart[] = [];
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf(OPEN, index);
    if (start < 0) {
      parts.push(text.slice(index));
      break;
    }
    if (start > index) parts.push(text.slice(index, start));
    let inString = false;
    let end = -1;
    for (let i = start + OPEN.length; i < text.length; i++) {
      const c = text[i];
      // Doubled quotes ('it''s') toggle twice: the same result as the parser's rule.
      if (c === "'") inString = !inString;
      else if (!inString && c === "}" && text[i - 1] === "}") {
        end = i + 1;
        break;
      }
    }
    if (end < 0) return undefined;
    parts.push({ expression: text.slice(start + OPEN.length, end - CLOSE.length).trim() });
    index = end;
  }
  return parts;
}

/** Whether the parts hold any expression. */
export function hasExpression(parts: readonly TemplatePart[]): boolean {
  return parts.some((p) => typeof p !== "string");
}

/**
 * Literal text made safe to embed in a template rendered later: each `${{` becomes
 * `${{ '${{' }}`, which renders back to `${{`. Without this, a value such as a commit message
 * containing `${{ secrets.X }}` would be evaluated when the template is rendered.
 */
export function escapeTemplateText(text: string): string {
  return text.replaceAll(OPEN, `${OPEN} '${OPEN}' ${CLOSE}`);
}

/** Parts back to template text: literal text escaped, expressions as `${{ expr }}`. */
export function joinTemplate(parts: readonly TemplatePart[]): string {
  return parts
    .map((p) => (typeof p === "string" ? escapeTemplateText(p) : `${OPEN} ${p.expression} ${CLOSE}`))
    .join("");
}
