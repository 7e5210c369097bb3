import { data } from "@actions/expressions";

// Plain JSON values ↔ the data types of `@actions/expressions` (DictionaryData, ArrayData…).

/** A JSON value as contexts carry it. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Whether a JSON value is an object (not null, not an array). */
export function isJsonObject(value: JsonValue | undefined): value is { readonly [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` (any JSON-like value; undefined becomes null) as expression data. */
export function toExpressionData(value: unknown): data.ExpressionData {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === "string") return new data.StringData(value);
  if (typeof value === "number") return new data.NumberData(value);
  if (typeof value === "boolean") return new data.BooleanData(value);
  if (typeof value === "bigint") return new data.NumberData(Number(value));
  if (Array.isArray(value)) return new data.Array(...value.map(toExpressionData));
  if (typeof value === "object") {
    return new data.Dictionary(
      ...Object.entries(value as Record<string, unknown>).map(([key, v]) => ({
        key,
        value: toExpressionData(v),
      })),
    );
  }
  return new data.StringData(String(value));
}

/** Expression data back to plain JSON. */
export function fromExpressionData(value: data.ExpressionData): JsonValue {
  switch (value.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.String:
      return (value as data.StringData).value;
    case data.Kind.Number:
      return (value as data.NumberData).number();
    case data.Kind.Boolean:
      return (value as data.BooleanData).value;
    case data.Kind.Array:
      return (value as data.Array).values().map(fromExpressionData);
    default: {
      const out: Record<string, JsonValue> = {};
      for (const pair of (value as data.Dictionary).pairs()) out[pair.key] = fromExpressionData(pair.value);
      return out;
    }
  }
}

/** The string form Actions gives a value in a template (`format`'s rule): objects read `Object`. */
export function expressionString(value: data.ExpressionData): string {
  return value.coerceString();
}

/** Whether a value counts as true in a condition (Actions' truthiness). */
export function isTruthy(value: data.ExpressionData): boolean {
  switch (value.kind) {
    case data.Kind.Null:
      return false;
    case data.Kind.Boolean:
      return (value as data.BooleanData).value;
    case data.Kind.Number: {
      const n = (value as data.NumberData).number();
      return n !== 0 && !Number.isNaN(n);
    }
    case data.Kind.String:
      return (value as data.StringData).value.length > 0;
    default:
      return true;
  }
}
