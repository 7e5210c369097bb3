import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import {
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from "@actions/workflow-parser/templates/tokens/type-guards";
import { TokenType } from "@actions/workflow-parser/templates/tokens/types";

// Template tokens in the JSON form of the runner's C# TemplateTokenJsonConverter: `type` as a
// number (0 string, 1 sequence, 2 mapping, 3 basic expression, 4 insert expression, 5 boolean,
// 6 number, 7 null); the value under `lit`, `bool`, `num`, `expr`, `directive`, `seq` or `map`
// (mapping pairs as `{"Key", "Value"}`); `file` (1-based index into the message's fileTable),
// `line`, `col` when the token came from a file. A literal without a position is written bare
// (`"text"`, `true`, `3`, `null`); an empty sequence or mapping has no `seq`/`map`.

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

/** A parsed token in the runner's JSON form. */
export function tokenToJson(token: TemplateToken): TokenJson {
  const at = position(token);
  const bare = Object.keys(at).length === 0;
  if (isString(token)) return bare ? token.value : { type: TokenType.String, ...at, lit: token.value };
  if (isBoolean(token)) return bare ? token.value : { type: TokenType.Boolean, ...at, bool: token.value };
  if (isNumber(token)) return bare ? token.value : { type: TokenType.Number, ...at, num: token.value };
  if (isBasicExpression(token)) return { type: TokenType.BasicExpression, ...at, expr: token.expression };
  if (isSequence(token)) {
    const items = [...token].map(tokenToJson);
    return items.length === 0
      ? { type: TokenType.Sequence, ...at }
      : { type: TokenType.Sequence, ...at, seq: items };
  }
  if (isMapping(token)) {
    const pairs = [...token].map((pair) => ({ Key: tokenToJson(pair.key), Value: tokenToJson(pair.value) }));
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
