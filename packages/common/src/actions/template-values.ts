import {
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from "@actions/workflow-parser";
import type { BasicExpressionToken, TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import type { SourceLocation } from "../workflow/workflow-types.ts";
import type { ActionsValue, TemplatePart } from "./actions-workflow.ts";
import type { DecodedScalars } from "./decoded-scalars.ts";
import { splitTemplate } from "./template-segments.ts";

// Template tokens of `@actions/workflow-parser` → `ActionsValue`s (plain data). A string with
// embedded expressions arrives as `format('literal {0}', expr)`; it is turned back into parts
// here, from the string's decoded value (see decoded-scalars.ts for why multi-line ones need it).

/** Where a token starts, or `fallback` when the parser gave it no range. */
export function tokenLocation(token: TemplateToken | undefined, fallback: SourceLocation): SourceLocation {
  const start = token?.range?.start;
  return start === undefined ? fallback : { line: start.line, column: start.column };
}

/**
 * Converts a token (and its children) to an `ActionsValue`.
 *
 * @param decoded The decoded scalars of the same file, for multi-line strings with expressions.
 */
export function toActionsValue(
  token: TemplateToken,
  decoded: () => DecodedScalars,
  fallback: SourceLocation,
): ActionsValue {
  const at = tokenLocation(token, fallback);
  if (isMapping(token)) {
    const entries: (readonly [string, ActionsValue])[] = [];
    for (const pair of token) {
      const key = isString(pair.key) ? pair.key.value : pair.key.toString();
      entries.push([key, toActionsValue(pair.value, decoded, at)]);
    }
    return { kind: "mapping", entries, at };
  }
  if (isSequence(token)) {
    const items: ActionsValue[] = [];
    for (const item of token) items.push(toActionsValue(item, decoded, at));
    return { kind: "sequence", items, at };
  }
  if (isBasicExpression(token)) return expressionValue(token, decoded, at);
  if (isString(token)) return { kind: "literal", value: token.value, at };
  if (isNumber(token)) return { kind: "literal", value: token.value, at };
  if (isBoolean(token)) return { kind: "literal", value: token.value, at };
  // NullToken, and `${{ insert }}` (not supported: read as null).
  return { kind: "literal", value: null, at };
}

function expressionValue(
  token: BasicExpressionToken,
  decoded: () => DecodedScalars,
  at: SourceLocation,
): ActionsValue {
  const originals = token.originalExpressions;
  if (originals === undefined || originals.length === 0) {
    return { kind: "expression", expression: token.expression, at };
  }
  const range = token.range;
  const singleLine = range === undefined || range.start.line === range.end.line;
  // Single-line: `source` is the decoded value. Multi-line: it is raw YAML, so read the value.
  const text = singleLine ? token.source : decoded()(range.start.line, range.start.column);
  const split = text === undefined ? undefined : splitTemplate(text);
  const expressionCount = split?.filter((p) => typeof p !== "string").length;
  if (split === undefined || expressionCount !== originals.length) {
    // Should not happen; the parser's own format() is right at least for single-line values.
    return { kind: "expression", expression: token.expression, at };
  }
  let next = 0;
  const parts: TemplatePart[] = split.map((part) =>
    typeof part === "string" ? part : { expression: originals[next++]!.expression },
  );
  return { kind: "template", parts, at };
}

/** The literal string of a value, when it is one (keys, `uses`, ids). */
export function literalString(value: ActionsValue | undefined): string | undefined {
  return value?.kind === "literal" && typeof value.value === "string" ? value.value : undefined;
}

/** The entry `key` of a mapping value. */
export function mappingEntry(value: ActionsValue | undefined, key: string): ActionsValue | undefined {
  if (value?.kind !== "mapping") return undefined;
  return value.entries.find(([k]) => k === key)?.[1];
}
