// Values in the JSON form of the runner's PipelineContextData: strings, booleans and numbers
// bare; an array `{"t": 1, "a": [...]}`; a dictionary `{"t": 2, "d": [{"k": key, "v": value}]}`
// (`a`/`d` left out when empty); null as null.

/** A value in PipelineContextData JSON. */
export type ContextDataJson =
  | string
  | number
  | boolean
  | null
  | { readonly t: 1; readonly a?: readonly ContextDataJson[] }
  | { readonly t: 2; readonly d?: readonly { readonly k: string; readonly v: ContextDataJson }[] };

/** A plain JSON-like value as context data. */
export function toContextData(value: unknown): ContextDataJson {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) {
    const items = value.map(toContextData);
    return items.length === 0 ? { t: 1 } : { t: 1, a: items };
  }
  if (typeof value === "object") {
    const pairs = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ({ k, v: toContextData(v) }));
    return pairs.length === 0 ? { t: 2 } : { t: 2, d: pairs };
  }
  return String(value);
}

/** Reads context data back into plain values (for tests and inspection). */
export function fromContextData(data: unknown): unknown {
  if (data === null || typeof data !== "object") return data;
  const record = data as { t?: number; a?: unknown[]; d?: { k: string; v: unknown }[] };
  if (record.t === 1) return (record.a ?? []).map(fromContextData);
  if (record.t === 2 || record.t === 5) {
    const result: Record<string, unknown> = {};
    for (const pair of record.d ?? []) result[pair.k] = fromContextData(pair.v);
    return result;
  }
  return data;
}
