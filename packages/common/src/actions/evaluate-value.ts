import type { data } from "@actions/expressions";
import type { ActionsValue } from "./actions-workflow.ts";
import { expressionString, fromExpressionData, type JsonValue } from "./expression-data.ts";
import { ExpressionFailure, evaluateExpression } from "./expression-evaluator.ts";
import { type ResidualOptions, residualExpression } from "./expression-residual.ts";
import { escapeTemplateText } from "./template-segments.ts";

// Evaluating workflow values: fully, for what must be known when the job is translated
// (`runs-on`, job `env`, `strategy`…), or as far as possible, for step fields that may read the
// run's state (`run`, step `env`…).

/**
 * Evaluates a value and everything in it over `contexts` (a template gives a string).
 *
 * @example
 *   evaluateValue(runsOn, contexts); // ["self-hosted", "omnios"]
 */
export function evaluateValue(value: ActionsValue, contexts: data.Dictionary): JsonValue | ExpressionFailure {
  switch (value.kind) {
    case "literal":
      return value.value;
    case "expression": {
      const result = evaluateExpression(value.expression, contexts);
      return result instanceof ExpressionFailure ? result : fromExpressionData(result);
    }
    case "template": {
      let text = "";
      for (const part of value.parts) {
        if (typeof part === "string") {
          text += part;
          continue;
        }
        const result = evaluateExpression(part.expression, contexts);
        if (result instanceof ExpressionFailure) return result;
        text += expressionString(result);
      }
      return text;
    }
    case "sequence": {
      const items: JsonValue[] = [];
      for (const item of value.items) {
        const result = evaluateValue(item, contexts);
        if (result instanceof ExpressionFailure) return result;
        items.push(result);
      }
      return items;
    }
    case "mapping": {
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of value.entries) {
        const result = evaluateValue(item, contexts);
        if (result instanceof ExpressionFailure) return result;
        out[key] = result;
      }
      return out;
    }
  }
}

/** A scalar JSON value as Actions writes it into a string (`true`, `3`, `""` for null). */
export function scalarText(value: JsonValue): string | undefined {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * A string field after translation: `text` is final when `runtime` is false; else it is a
 * template for `renderStepTemplate` (literal parts escaped, `${{ }}` for what the run decides).
 */
export interface ResolvedString {
  readonly text: string;
  readonly runtime: boolean;
}

/**
 * Resolves a string field as far as translation can: what is known is written in, what depends
 * on the run stays as `${{ expr }}` (see `residualExpression`).
 */
export function resolveString(
  value: ActionsValue,
  options: ResidualOptions,
): ResolvedString | ExpressionFailure {
  if (value.kind === "literal") return { text: scalarText(value.value) ?? "", runtime: false };
  if (value.kind === "sequence" || value.kind === "mapping") {
    return new ExpressionFailure(`expected a string, got a ${value.kind}`);
  }
  const parts = value.kind === "template" ? value.parts : [{ expression: value.expression }];
  const pieces: ({ text: string } | { expression: string })[] = [];
  for (const part of parts) {
    if (typeof part === "string") {
      pieces.push({ text: part });
      continue;
    }
    const residual = residualExpression(part.expression, { ...options, mode: "value" });
    if (residual instanceof ExpressionFailure) return residual;
    pieces.push(
      residual.kind === "static"
        ? { text: expressionString(residual.value) }
        : { expression: residual.expression },
    );
  }
  const runtime = pieces.some((p) => "expression" in p);
  const text = pieces
    .map((p) => {
      if ("expression" in p) return `\${{ ${p.expression} }}`;
      return runtime ? escapeTemplateText(p.text) : p.text;
    })
    .join("");
  return { text, runtime };
}
