import { z } from "zod";
import { QmpProtocolError } from "../errors.ts";

// QMP messages are JSON objects, one per line (QEMU ends each with "\r\n"). This parser is fed
// the bytes the socket delivers, in whatever chunks they come, and returns whole messages; it does
// no I/O, so it is tested on its own (split chunks, several messages per chunk).

const timestampSchema = z.object({ seconds: z.number(), microseconds: z.number() });
const idSchema = z.union([z.number(), z.string()]).optional();

const greetingSchema = z.object({
  QMP: z.object({
    version: z
      .object({
        qemu: z.object({ major: z.number(), minor: z.number(), micro: z.number() }),
        package: z.string().optional(),
      })
      .loose(),
    capabilities: z.array(z.string()),
  }),
});
const returnSchema = z.object({ return: z.unknown(), id: idSchema });
const errorSchema = z.object({
  error: z.object({ class: z.string(), desc: z.string() }),
  id: idSchema,
});
const eventSchema = z.object({
  event: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
  timestamp: timestampSchema.optional(),
});

/** The greeting QEMU sends on connect. */
export interface QmpGreeting {
  readonly type: "greeting";
  readonly version: { readonly major: number; readonly minor: number; readonly micro: number };
  readonly package: string | undefined;
  readonly capabilities: readonly string[];
}

/** A successful answer to a command. */
export interface QmpReturn {
  readonly type: "return";
  readonly id: number | string | undefined;
  readonly value: unknown;
}

/** An error answer to a command. */
export interface QmpErrorReply {
  readonly type: "error";
  readonly id: number | string | undefined;
  readonly errorClass: string;
  readonly desc: string;
}

/** An asynchronous event (`SHUTDOWN`, `STOP`, `RESUME`, `POWERDOWN`, ...). */
export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown> | undefined;
  readonly timestamp: { readonly seconds: number; readonly microseconds: number } | undefined;
}

/** Any server message, discriminated by `type`. */
export type QmpMessage = QmpGreeting | QmpReturn | QmpErrorReply | ({ readonly type: "event" } & QmpEvent);

/** Longest line accepted: QMP answers are small; a runaway peer must not grow memory without end. */
export const MAX_QMP_LINE_BYTES = 8 * 1024 * 1024;

/**
 * Turn one JSON line into a message. Throws {@link QmpProtocolError} for anything that is not a
 * QMP message.
 */
export function parseQmpLine(line: string): QmpMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new QmpProtocolError(`not JSON: ${truncate(line)}`, { cause: error });
  }
  if (typeof value !== "object" || value === null)
    throw new QmpProtocolError(`not an object: ${truncate(line)}`);
  if ("return" in value) {
    const m = returnSchema.safeParse(value);
    if (!m.success) throw new QmpProtocolError(`malformed return: ${truncate(line)}`);
    return { type: "return", id: m.data.id, value: m.data.return };
  }
  if ("error" in value) {
    const m = errorSchema.safeParse(value);
    if (!m.success) throw new QmpProtocolError(`malformed error reply: ${truncate(line)}`);
    return { type: "error", id: m.data.id, errorClass: m.data.error.class, desc: m.data.error.desc };
  }
  if ("event" in value) {
    const m = eventSchema.safeParse(value);
    if (!m.success) throw new QmpProtocolError(`malformed event: ${truncate(line)}`);
    return { type: "event", event: m.data.event, data: m.data.data, timestamp: m.data.timestamp };
  }
  if ("QMP" in value) {
    const m = greetingSchema.safeParse(value);
    if (!m.success) throw new QmpProtocolError(`malformed greeting: ${truncate(line)}`);
    const { version, capabilities } = m.data.QMP;
    return { type: "greeting", version: version.qemu, package: version.package, capabilities };
  }
  throw new QmpProtocolError(`unknown message: ${truncate(line)}`);
}

/**
 * Splits a byte stream into QMP messages. Lines are split on bytes (LF) before decoding, so a
 * multi-byte UTF-8 character cut across chunks is decoded whole.
 *
 * @example
 *   const parser = new QmpParser();
 *   socket.on("data", (chunk) => { for (const m of parser.push(chunk)) handle(m); });
 */
export class QmpParser {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });

  /** Feed bytes; returns every message completed by them, in order. */
  push(chunk: Uint8Array): QmpMessage[] {
    const messages: QmpMessage[] = [];
    let start = 0;
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, start)) {
      const line = this.#takeLine(chunk.subarray(start, i));
      start = i + 1;
      const text = line.trim();
      if (text !== "") messages.push(parseQmpLine(text));
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.#pendingBytes + rest.length > MAX_QMP_LINE_BYTES) {
        this.#pending = [];
        this.#pendingBytes = 0;
        throw new QmpProtocolError(`a line longer than ${MAX_QMP_LINE_BYTES} bytes`);
      }
      // Copy: the caller may reuse its buffer.
      this.#pending.push(Uint8Array.from(rest));
      this.#pendingBytes += rest.length;
    }
    return messages;
  }

  /** Bytes received after the last newline (an incomplete message). */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  #takeLine(tail: Uint8Array): string {
    if (this.#pending.length === 0) return this.#decoder.decode(tail);
    const whole = Buffer.concat([...this.#pending, tail]);
    this.#pending = [];
    this.#pendingBytes = 0;
    return this.#decoder.decode(whole);
  }
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
