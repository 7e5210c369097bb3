import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";

// Reading request bodies and writing answers. Every JSON answer carries Content-Length: the
// reference runner's OAuth client only reads a 400 body when its length is known.

/** Raised by a handler to answer with `status` and `body` (JSON unless a string). */
export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}) {
    super(typeof body === "string" ? body : JSON.stringify(body));
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** The largest body read (log blocks are the biggest bodies). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, { message: "request body too large" });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses `text` as JSON and checks it against `schema`; `invalid` builds the error answer. */
export function parseJsonBody<S extends z.ZodType>(
  text: string,
  schema: S,
  invalid: (problem: string) => HttpError,
): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("the body is not JSON");
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    throw invalid(problems.join("; "));
  }
  return result.data;
}

/** Answers JSON. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = Buffer.from(JSON.stringify(body));
  res
    .writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(text.length),
      ...headers,
    })
    .end(text);
}

/** Answers plain text (or XML, with a content type). */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = Buffer.from(text);
  res
    .writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(body.length),
      ...headers,
    })
    .end(body);
}

/** Answers with no body at all (Content-Length: 0). */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { "content-length": "0", ...headers }).end();
}

/** Writes an HttpError as its answer. */
export function sendHttpError(res: ServerResponse, error: HttpError): void {
  if (typeof error.body === "string") sendText(res, error.status, error.body, error.headers);
  else if (error.body === undefined) sendEmpty(res, error.status, error.headers);
  else sendJson(res, error.status, error.body, error.headers);
}
