import type { BasicExpressionToken, TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import {
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import { TokenType } from "@actions/workflow-parser/templates/tokens/types";
import { type DecodedScalars, splitTemplate } from "@solstice/common";

// Template tokens in the JSON form of the runner's C# TemplateTokenJsonConverter: `type` as a
// number (0 string, 1 sequence, 2 mapping, 3 basic expression, 4 insert expression, 5 boolean,
// 6 number, 7 null); the value under `lit`, `bool`, `num`, `expr`, `directive`, `seq` or `map`
// (mapping pairs as `{"Key", "Value"}`); `file` (1-based index into the message's fileTable),
// `line`, `col` when the token came from a file. A literal without a position is written bare
// (`"text"`, `true`, `3`, `null`); an empty sequence or mapping has no `seq`/`map`.
// A string with embedded expressions is `format('literal {0}', expr)`, built from the string's
// value as GitHub's parser builds it; @actions/workflow-parser builds it from the raw YAML of a
// multi-line scalar (indentation, quotes and escapes kept), so such a one is built again here
// from its decoded value.

/** A token in the runner's JSON form. */
export type TokenJson =
  | string
  | number
  | boolean
  | null
  | {
      readonly type: number;
      readonly file?: number;
      readonly line?: number;
      readonly col?: number;
      readonly lit?: string;
      readonly bool?: boolean;
      readonly num?: number;
      readonly expr?: string;
      readonly directive?: string;
      readonly seq?: readonly TokenJson[];
      readonly map?: readonly { readonly Key: TokenJson; readonly Value: TokenJson }[];
    };

/** Where a token came from, as the C# tokens carry it. */
function position(token: TemplateToken): { file?: number; line?: number; col?: number } {
  const result: { file?: number; line?: number; col?: number } = {};
  if (token.file !== undefined) result.file = token.file;
  if (token.range !== undefined) {
    result.line = token.range.start.line;
    result.col = token.range.start.column;
  }
  return result;
}

/** `format('…', …)` of a multi-line string with expressions, from its decoded value. */
function formatExpression(token: BasicExpressionToken, decoded: DecodedScalars | undefined): string {
  const originals = token.originalExpressions;
  const range = token.range;
  if (decoded === undefined || originals === undefined || originals.length === 0 || range === undefined) {
    return token.expression;
  }
  if (range.start.line === range.end.line) return token.expression;
  const value = decoded(range.start.line, range.start.column);
  const parts = value === undefined ? undefined : splitTemplate(value);
  if (parts === undefined) return token.expression;
  const expressions: string[] = [];
  let literal = "";
  for (const part of parts) {
    if (typeof part === "string") {
      literal += part.replaceAll("'", "''").replaceAll("{", "{{").replaceAll("}", "}}");
    } else {
      literal += `{${expressions.length}}`;
      expressions.push(part.expression);
    }
  }
  return `format('${literal}', ${expressions.join(", ")})`;
}

/**
 * A parsed token in the runner's JSON form.
 *
 * @param decoded The workflow's decoded scalars (for multi-line strings with expressions).
 */
export function tokenToJson(token: TemplateToken, decoded?: DecodedScalars): TokenJson {
  const at = position(token);
  const bare = Object.keys(at).length === 0;
  if (isString(token)) return bare ? token.value : { type: TokenType.String, ...at, lit: token.value };
  if (isBoolean(token)) return bare ? token.value : { type: TokenType.Boolean, ...at, bool: token.value };
  if (isNumber(token)) return bare ? token.value : { type: TokenType.Number, ...at, num: token.value };
  if (isBasicExpression(token)) {
    return { type: TokenType.BasicExpression, ...at, expr: formatExpression(token, decoded) };
  }
  if (isSequence(token)) {
    const items = [...token].map((item) => tokenToJson(item, decoded));
    return items.length === 0
      ? { type: TokenType.Sequence, ...at }
      : { type: TokenType.Sequence, ...at, seq: items };
  }
  if (isMapping(token)) {
    const pairs = [...token].map((pair) => ({
      Key: tokenToJson(pair.key, decoded),
      Value: tokenToJson(pair.value, decoded),
    }));
    return pairs.length === 0
      ? { type: TokenType.Mapping, ...at }
      : { type: TokenType.Mapping, ...at, map: pairs };
  }
  if (token.templateTokenType === TokenType.InsertExpression) {
    return { type: TokenType.InsertExpression, ...at, directive: "insert" };
  }
  // A null token.
  return bare ? null : { type: TokenType.Null, ...at };
}

/** A mapping made by the server (no position): keys are bare strings. */
export function mappingJson(entries: readonly (readonly [string, TokenJson])[]): TokenJson {
  if (entries.length === 0) return { type: TokenType.Mapping };
  return { type: TokenType.Mapping, map: entries.map(([key, value]) => ({ Key: key, Value: value })) };
}
