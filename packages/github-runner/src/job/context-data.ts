import { data } from "@actions/expressions";
import type { JsonValue } from "@solstice/common";
import { z } from "zod";

// PipelineContextData as the job message serializes it (PipelineContextDataJsonConverter):
// strings, booleans and numbers as plain JSON; objects tagged `t`: 0 string `s`, 1 array `a`,
// 2 dictionary `d` of `{k, v}`, 3 boolean `b`, 4 number `n`, 5 case-sensitive dictionary `d`.
// An empty array or dictionary has no `a`/`d`; an object without `t` is a string.

/** Context-data type codes (PipelineContextDataType.cs). */
export const ContextDataType = {
  String: 0,
  Array: 1,
  Dictionary: 2,
  Boolean: 3,
  Number: 4,
  CaseSensitiveDictionary: 5,
} as const;

/** Serialized context data. */
export type PipelineContextDataJson =
  | string
  | number
  | boolean
  | null
  | {
      readonly t?: number;
      readonly s?: string | null;
      readonly b?: boolean;
      readonly n?: number;
      readonly a?: readonly PipelineContextDataJson[];
      readonly d?: readonly { readonly k: string; readonly v: PipelineContextDataJson }[];
    };

/** Serialized context data (recursive). */
export const PipelineContextDataSchema: z.ZodType<PipelineContextDataJson> = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.object({
    t: z.number().int().min(0).max(5).optional(),
    s: z.string().nullish(),
    b: z.boolean().optional(),
    n: z.number().optional(),
    a: z.array(z.lazy(() => PipelineContextDataSchema)).optional(),
    d: z.array(z.object({ k: z.string(), v: z.lazy(() => PipelineContextDataSchema) })).optional(),
  }),
]) as z.ZodType<PipelineContextDataJson>;

/**
 * Context data as plain JSON.
 *
 * @example
 *   contextDataToJson({ t: 2, d: [{ k: "os", v: "linux" }, { k: "n", v: { t: 4, n: 2 } }] }); // { os: "linux", n: 2 }
 */
export function contextDataToJson(value: PipelineContextDataJson): JsonValue {
  if (value === null || typeof value !== "object") return value;
  switch (value.t ?? ContextDataType.String) {
    case ContextDataType.String:
      return value.s ?? "";
    case ContextDataType.Boolean:
      return value.b ?? false;
    case ContextDataType.Number:
      return value.n ?? 0;
    case ContextDataType.Array:
      return (value.a ?? []).map(contextDataToJson);
    default: {
      const out: Record<string, JsonValue> = {};
      for (const pair of value.d ?? []) out[pair.k] = contextDataToJson(pair.v);
      return out;
    }
  }
}

/** Context data as @actions/expressions data (dictionaries case-insensitive, as Actions reads them). */
export function contextDataToExpressionData(value: PipelineContextDataJson): data.ExpressionData {
  if (value === null) return new data.Null();
  if (typeof value === "string") return new data.StringData(value);
  if (typeof value === "number") return new data.NumberData(value);
  if (typeof value === "boolean") return new data.BooleanData(value);
  switch (value.t ?? ContextDataType.String) {
    case ContextDataType.String:
      return new data.StringData(value.s ?? "");
    case ContextDataType.Boolean:
      return new data.BooleanData(value.b ?? false);
    case ContextDataType.Number:
      return new data.NumberData(value.n ?? 0);
    case ContextDataType.Array:
      return new data.Array(...(value.a ?? []).map(contextDataToExpressionData));
    default:
      return new data.Dictionary(
        ...(value.d ?? []).map((pair) => ({ key: pair.k, value: contextDataToExpressionData(pair.v) })),
      );
  }
}

/** Plain JSON as context data (what a server sends; for tests and the test server). */
export function jsonToContextData(value: JsonValue): PipelineContextDataJson {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const items = (value as readonly JsonValue[]).map(jsonToContextData);
    return items.length === 0 ? { t: ContextDataType.Array } : { t: ContextDataType.Array, a: items };
  }
  const pairs = Object.entries(value as Record<string, JsonValue>).map(([k, v]) => ({
    k,
    v: jsonToContextData(v),
  }));
  return pairs.length === 0 ? { t: ContextDataType.Dictionary } : { t: ContextDataType.Dictionary, d: pairs };
}
