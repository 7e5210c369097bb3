import { userAgent } from "../version.ts";

// The one place this package touches the network over HTTP: a request with a timeout (every
// connection has one), combined with the caller's abort signal, answering status, headers and
// the body as text. The clients parse the text with their zod schemas.

/** `fetch`, injectable so that a daemon can add a proxy or a test a local server. */
export type FetchFunction = typeof fetch;

/** One HTTP request. */
export interface HttpCall {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string is sent as is; an object as JSON. */
  readonly body?: string | Uint8Array | object;
  /** Default 100 s (the reference runner's HTTP timeout). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The answer. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Sends `call`; network errors and timeouts reject (as fetch does). */
export async function httpCall(call: HttpCall, fetchFn: FetchFunction = fetch): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(call.timeoutMs ?? 100_000);
  const signal = call.signal === undefined ? timeout : AbortSignal.any([call.signal, timeout]);
  const headers: Record<string, string> = { "user-agent": userAgent(), ...(call.headers ?? {}) };
  let body: string | Uint8Array | undefined;
  if (typeof call.body === "string" || call.body instanceof Uint8Array) body = call.body;
  else if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetchFn(call.url, {
    method: call.method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** Whether a status is 2xx. */
export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** JSON text parsed, or undefined when it is not JSON. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
