// Why an error happened, when its message hides it: Node's fetch fails with "fetch failed" and
// keeps the reason (ECONNREFUSED 127.0.0.1:8081, ENOTFOUND host, a TLS error) in `cause`, and
// other wrappers do the same. The CLIs print the root cause's code and address beside the
// message, so a user sees what to fix.

interface ErrorFields {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly hostname?: unknown;
}

function fields(value: unknown): ErrorFields | undefined {
  return typeof value === "object" && value !== null ? (value as ErrorFields) : undefined;
}

/** The innermost cause (the first of an AggregateError's errors), at most 10 levels down. */
function rootCause(error: unknown): ErrorFields | undefined {
  let current = fields(fields(error)?.cause);
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    const next =
      fields(current.cause) ??
      (Array.isArray(current.errors) ? fields((current.errors as unknown[])[0]) : undefined);
    if (next === undefined) break;
    current = next;
  }
  if (current !== undefined && Array.isArray(current.errors) && current.code === undefined) {
    return fields((current.errors as unknown[])[0]) ?? current;
  }
  return current;
}

/**
 * The root cause of `error` as a short text (`ECONNREFUSED 127.0.0.1:8081`, `ENOTFOUND
 * api.example.org`, or its message), or undefined when `message` already says it or there is none.
 *
 * @example
 *   await fetch("http://127.0.0.1:1").catch((e) => describeRootCause(e, e.message)); // "ECONNREFUSED 127.0.0.1:1"
 */
export function describeRootCause(error: unknown, message: string): string | undefined {
  const cause = rootCause(error);
  if (cause === undefined) return undefined;
  const code = typeof cause.code === "string" ? cause.code : undefined;
  const host =
    typeof cause.address === "string"
      ? `${cause.address}${typeof cause.port === "number" ? `:${cause.port}` : ""}`
      : typeof cause.hostname === "string"
        ? cause.hostname
        : undefined;
  const text =
    code !== undefined
      ? [code, host].filter((part) => part !== undefined).join(" ")
      : typeof cause.message === "string"
        ? cause.message
        : undefined;
  if (text === undefined || text === "" || message.includes(text)) return undefined;
  return text;
}
