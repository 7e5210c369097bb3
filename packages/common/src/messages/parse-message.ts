import type { z } from "zod";
import { type MessageIssue, MessageValidationError } from "../errors.ts";

/** Where `text` stops being JSON, as `line:column` (1-based), with no byte of it quoted. */
export function describeJsonError(text: string): string {
  if (text.trim() === "") return "not JSON: the body is empty";
  const offset = firstJsonErrorOffset(text);
  if (offset >= text.length) return `not JSON: it ends too early (after ${text.length} characters)`;
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `not JSON: unexpected character at line ${line}, column ${column}`;
}

/** The offset of the first character JSON.parse refuses (the length when the text ends too early). */
function firstJsonErrorOffset(text: string): number {
  const failure = jsonFailure(text);
  if (failure === undefined) return text.length;
  if (failure.atEnd) return text.length;
  if (failure.position !== undefined) return failure.position;
  // V8 quotes the text instead of giving a position: find the longest prefix that is still
  // JSON or fails only because it ends there; the next character is the bad one.
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const f = jsonFailure(text.slice(0, mid));
    if (f === undefined || f.atEnd || f.position === mid) low = mid;
    else high = mid - 1;
  }
  return low;
}

function jsonFailure(text: string): { atEnd: boolean; position: number | undefined } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    const position = /at position (\d+)/.exec(message)?.[1];
    return {
      atEnd: /Unexpected end/.test(message),
      position: position === undefined ? undefined : Number(position),
    };
  }
}

/** `["steps", 1, "run"]` → `steps[1].run`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

function describeInput(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  if (typeof input === "number") return `number ${input}`;
  // Strings are not quoted back: a misplaced value might be a secret.
  return typeof input === "string" ? "a string" : typeof input;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function bound(
  issue: { origin: string; inclusive?: boolean },
  word: "least" | "most",
  limit: number | bigint,
): string {
  if (issue.origin === "string" && word === "least" && Number(limit) === 1) return "a non-empty string";
  const size = issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : "";
  if (size !== "") return `at ${word} ${limit}${size}`;
  const op =
    word === "least" ? (issue.inclusive === false ? ">" : ">=") : issue.inclusive === false ? "<" : "<=";
  return `a number ${op} ${limit}`;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `required (expected ${issue.expected})`;
      if (issue.expected === "int") return `expected an integer, got ${describeInput(issue.input)}`;
      return `expected ${issue.expected}, got ${describeInput(issue.input)}`;
    case "invalid_value":
      if (issue.input === undefined)
        return `required (expected ${issue.values.map((v) => JSON.stringify(v)).join(" or ")})`;
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}, got ${shortJson(issue.input)}`;
    case "too_small":
      return `expected ${bound(issue, "least", issue.minimum)}, got ${describeInput(issue.input)}`;
    case "too_big":
      return `expected ${bound(issue, "most", issue.maximum)}, got ${describeInput(issue.input)}`;
    case "unrecognized_keys":
      return `unknown field(s) ${issue.keys.join(", ")}`;
    case "invalid_union":
      if (issue.discriminator !== undefined && "options" in issue && issue.options !== undefined) {
        const input: unknown = issue.input;
        const tag =
          typeof input === "object" && input !== null
            ? (input as Record<string, unknown>)[issue.discriminator]
            : undefined;
        const got = tag === undefined ? "nothing" : shortJson(tag);
        return `expected ${issue.options.map((o) => JSON.stringify(o)).join(" or ")}, got ${got}`;
      }
      // Report the alternative that got furthest rather than "invalid input".
      return issue.errors[0]?.[0] !== undefined ? issueMessage(issue.errors[0][0]) : issue.message;
    default:
      return issue.message;
  }
}

/** Turns zod's issues into `path: message` pairs that name the bad field. */
export function toMessageIssues(error: z.ZodError): MessageIssue[] {
  return error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issueMessage(issue) }));
}

/** Wraps a ZodError from `schema.safeParse` as a MessageValidationError. */
export function toValidationError(messageType: string, error: z.ZodError): MessageValidationError {
  // Not chained as `cause`: zod's issues carry the offending input, which may be a secret.
  return new MessageValidationError(messageType, toMessageIssues(error));
}

/**
 * Validates an already-decoded JSON value against a message schema. Returns the parsed value
 * (defaults applied, unknown fields dropped) or throws `MessageValidationError` naming the path
 * of each bad field, e.g. `invalid JobRequest: steps[1].run: expected string, got number`.
 *
 * @example
 *   const req = parseMessage(JobRequestSchema, JSON.parse(body));
 */
export function parseMessage<S extends z.ZodType>(
  schema: S,
  json: unknown,
  messageType: string = schema.description ?? "message",
): z.output<S> {
  const result = schema.safeParse(json, { reportInput: true });
  if (result.success) return result.data;
  throw toValidationError(messageType, result.error);
}

/**
 * Decodes a message body (UTF-8 JSON, e.g. an AMQP payload) and validates it. A body that is not
 * JSON throws `MessageValidationError` too, so a consumer has one error to dead-letter on.
 */
export function parseMessageText<S extends z.ZodType>(
  schema: S,
  body: string | Uint8Array,
  messageType: string = schema.description ?? "message",
): z.output<S> {
  const text = typeof body === "string" ? body : new TextDecoder().decode(body);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // V8's message quotes the body ("Unexpected token 'h', "{"a": hunter2}" is not valid JSON"),
    // which may hold a secret: say where it breaks, never what it says.
    throw new MessageValidationError(messageType, [{ path: "", message: describeJsonError(text) }]);
  }
  return parseMessage(schema, json, messageType);
}
