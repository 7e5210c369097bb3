import type { ActionsValue, ExpressionContexts, JsonValue } from "@solstice/common";
import { contextDictionary, type ExpressionFailure, evaluateValue } from "@solstice/common";
import { z } from "zod";

// Template tokens as the job message serializes them (TemplateTokenJsonConverter): a token
// without position is a plain JSON string, number, boolean or null; otherwise an object with
// `type` (0 string `lit`, 1 sequence `seq`, 2 mapping `map` of `{Key, Value}`, 3 expression
// `expr`, 4 insert `directive`, 5 boolean `bool`, 6 number `num`, 7 null) and `file`, `line`,
// `col`. An object without `type` is a string token. A string mixed with `${{ }}` arrives as
// one expression `format('text {0}', expr)`.
//
// They become common's `ActionsValue`s, the form translateJob evaluates (with
// @actions/expressions) — a sequence or mapping stays one, an expression stays an expression.

/** Token type numbers (TokenType.cs). */
export const TokenType = {
  String: 0,
  Sequence: 1,
  Mapping: 2,
  BasicExpression: 3,
  InsertExpression: 4,
  Boolean: 5,
  Number: 6,
  Null: 7,
} as const;

/** A serialized token. */
export type TemplateTokenJson =
  | string
  | number
  | boolean
  | null
  | {
      readonly type?: number;
      readonly file?: number;
      readonly line?: number;
      readonly col?: number;
      readonly lit?: string;
      readonly bool?: boolean;
      readonly num?: number;
      readonly expr?: string;
      readonly directive?: string;
      readonly seq?: readonly TemplateTokenJson[];
      readonly map?: readonly { readonly Key: TemplateTokenJson; readonly Value: TemplateTokenJson }[];
    };

/** Mapping pairs are `{Key, Value}` (Newtonsoft's KeyValuePair); read in any case. */
const MapItemSchema = z.preprocess(
  (value) => {
    if (typeof value !== "object" || value === null) return value;
    const item = value as Record<string, unknown>;
    return { Key: item["Key"] ?? item["key"], Value: item["Value"] ?? item["value"] };
  },
  z.object({
    Key: z.lazy(() => TemplateTokenSchema),
    Value: z.lazy(() => TemplateTokenSchema),
  }),
);

/** A serialized token (recursive). */
export const TemplateTokenSchema: z.ZodType<TemplateTokenJson> = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.object({
    type: z.number().int().min(0).max(7).optional(),
    file: z.number().int().optional(),
    line: z.number().int().optional(),
    col: z.number().int().optional(),
    lit: z
      .string()
      .nullish()
      .transform((v) => v ?? undefined),
    bool: z.boolean().optional(),
    num: z.number().optional(),
    expr: z
      .string()
      .nullish()
      .transform((v) => v ?? undefined),
    directive: z.string().optional(),
    seq: z.array(z.lazy(() => TemplateTokenSchema)).optional(),
    map: z.array(MapItemSchema).optional(),
  }),
]) as z.ZodType<TemplateTokenJson>;

/** Where a token is, for messages (line and column from the token, 0 when it has none). */
function location(token: TemplateTokenJson, fallback: { line: number; column: number }) {
  if (typeof token === "object" && token !== null && token.line !== undefined) {
    return { line: token.line, column: token.col ?? 0 };
  }
  return fallback;
}

/** A token that cannot be used (an insert directive, a mapping key that is not a string). */
export class TemplateTokenError extends Error {}

/**
 * A token as an `ActionsValue`. Throws `TemplateTokenError` for `${{ insert }}` and for
 * mapping keys that are not strings.
 *
 * @example
 *   toActionsValue({ type: 3, expr: "format('echo {0}', matrix.os)" });
 *   // { kind: "expression", expression: "format('echo {0}', matrix.os)", at }
 */
export function toActionsValue(token: TemplateTokenJson, fallback = { line: 0, column: 0 }): ActionsValue {
  const at = location(token, fallback);
  if (token === null || typeof token !== "object") return { kind: "literal", value: token, at };
  switch (token.type ?? TokenType.String) {
    case TokenType.String:
      return { kind: "literal", value: token.lit ?? "", at };
    case TokenType.Boolean:
      return { kind: "literal", value: token.bool ?? false, at };
    case TokenType.Number:
      return { kind: "literal", value: token.num ?? 0, at };
    case TokenType.Null:
      return { kind: "literal", value: null, at };
    case TokenType.BasicExpression:
      return { kind: "expression", expression: token.expr ?? "", at };
    case TokenType.InsertExpression:
      throw new TemplateTokenError("the insert directive is not supported here");
    case TokenType.Sequence:
      return { kind: "sequence", items: (token.seq ?? []).map((item) => toActionsValue(item, at)), at };
    case TokenType.Mapping: {
      const entries: (readonly [string, ActionsValue])[] = [];
      for (const pair of token.map ?? []) {
        const key = toActionsValue(pair.Key, at);
        if (key.kind !== "literal" || key.value === null) {
          throw new TemplateTokenError("a mapping key must be a plain string");
        }
        entries.push([String(key.value), toActionsValue(pair.Value, at)]);
      }
      return { kind: "mapping", entries, at };
    }
    default:
      throw new TemplateTokenError(`unknown token type ${token.type}`);
  }
}

/** The entry `key` (case-insensitive, as the runner reads inputs) of a mapping value. */
export function mappingValue(value: ActionsValue | undefined, key: string): ActionsValue | undefined {
  if (value?.kind !== "mapping") return undefined;
  return value.entries.find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
}

/**
 * A token evaluated over `contexts` to plain JSON (what a template evaluator gives), or the
 * failure of its first expression.
 *
 * @example
 *   evaluateTemplateToken({ type: 3, expr: "format('{0}-{1}', matrix.os, 1)" }, { matrix: { os: "omnios" } });
 *   // "omnios-1"
 */
export function evaluateTemplateToken(
  token: TemplateTokenJson,
  contexts: ExpressionContexts,
): JsonValue | ExpressionFailure {
  return evaluateValue(toActionsValue(token), contextDictionary(contexts));
}
