import type { DeadLetter, Delivery, MessageHeaders, OutgoingMessage } from "./broker.ts";

/** The headers a dead-lettered message carries, saying why and where it came from. */
export const DEAD_LETTER_HEADERS = {
  reason: "x-solstice-reason",
  code: "x-solstice-error-code",
  originalExchange: "x-solstice-original-exchange",
  originalRoutingKey: "x-solstice-original-routing-key",
  originalQueue: "x-solstice-original-queue",
  failedAt: "x-solstice-failed-at",
  attempts: "x-solstice-attempts",
} as const;

/** Incremented each time a dead letter is replayed. */
export const REPLAYS_HEADER = "x-solstice-replays";

// Headers are encoded into a 64 KiB buffer by amqplib: keep the reason well below.
const MAX_REASON_LENGTH = 2_000;

/** Why a message is dead-lettered. */
export interface DeadLetterCause {
  readonly reason: string;
  readonly code: string;
  readonly attempts: number;
}

/** The headers of the copy of `delivery` sent to the dead-letter exchange. */
export function deadLetterHeaders(delivery: Delivery, cause: DeadLetterCause, now: Date): MessageHeaders {
  const reason =
    cause.reason.length > MAX_REASON_LENGTH ? `${cause.reason.slice(0, MAX_REASON_LENGTH)}…` : cause.reason;
  return {
    ...delivery.headers,
    [DEAD_LETTER_HEADERS.reason]: reason,
    [DEAD_LETTER_HEADERS.code]: cause.code,
    [DEAD_LETTER_HEADERS.originalExchange]: delivery.exchange,
    [DEAD_LETTER_HEADERS.originalRoutingKey]: delivery.routingKey,
    [DEAD_LETTER_HEADERS.originalQueue]: delivery.queue,
    [DEAD_LETTER_HEADERS.failedAt]: now.toISOString(),
    [DEAD_LETTER_HEADERS.attempts]: cause.attempts,
  };
}

/** The message that dead-letters `delivery` through exchange `dlx`. */
export function deadLetterMessage(
  delivery: Delivery,
  dlx: string,
  cause: DeadLetterCause,
  now: Date,
): OutgoingMessage {
  return {
    exchange: dlx,
    routingKey: delivery.routingKey,
    body: delivery.body,
    messageId: delivery.messageId ?? `dead-letter-${now.getTime()}-${Math.random().toString(16).slice(2)}`,
    ...(delivery.contentType === undefined ? {} : { contentType: delivery.contentType }),
    ...(delivery.type === undefined ? {} : { type: delivery.type }),
    headers: deadLetterHeaders(delivery, cause, now),
  };
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "number") return String(value);
  return undefined;
}

// RabbitMQ's own dead-lettering (nack without requeue, when republishing with the reason failed)
// records the origin in `x-death`: use it when the Solstice headers are absent.
interface XDeathEntry {
  queue?: unknown;
  exchange?: unknown;
  reason?: unknown;
  "routing-keys"?: unknown;
  count?: unknown;
  time?: unknown;
}

function firstDeath(headers: MessageHeaders): XDeathEntry | undefined {
  const deaths = headers["x-death"];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const first: unknown = deaths[0];
  return typeof first === "object" && first !== null ? (first as XDeathEntry) : undefined;
}

function deathTime(death: XDeathEntry | undefined): string | undefined {
  const time = death?.time;
  if (typeof time === "object" && time !== null && "value" in time && typeof time.value === "number") {
    return new Date(time.value * 1000).toISOString();
  }
  return undefined;
}

/** Reads why and from where a message in the DLQ came (Solstice headers, else `x-death`). */
export function readDeadLetter(delivery: Delivery): DeadLetter {
  const h = delivery.headers;
  const death = firstDeath(h);
  const routingKeys = Array.isArray(death?.["routing-keys"]) ? death["routing-keys"] : [];
  const attempts = h[DEAD_LETTER_HEADERS.attempts];
  return {
    messageId: delivery.messageId,
    reason:
      text(h[DEAD_LETTER_HEADERS.reason]) ??
      (death === undefined ? "unknown" : `dead-lettered by the broker: ${text(death.reason) ?? "unknown"}`),
    code: text(h[DEAD_LETTER_HEADERS.code]) ?? (death === undefined ? "UNKNOWN" : "BROKER_DEAD_LETTERED"),
    originalExchange: text(h[DEAD_LETTER_HEADERS.originalExchange]) ?? text(death?.exchange),
    originalRoutingKey: text(h[DEAD_LETTER_HEADERS.originalRoutingKey]) ?? text(routingKeys[0]),
    originalQueue: text(h[DEAD_LETTER_HEADERS.originalQueue]) ?? text(death?.queue),
    failedAt: text(h[DEAD_LETTER_HEADERS.failedAt]) ?? deathTime(death),
    attempts: typeof attempts === "number" ? attempts : undefined,
    type: delivery.type,
    contentType: delivery.contentType,
    headers: h,
    body: delivery.body,
  };
}

const BROKER_DEATH_HEADERS = [
  "x-death",
  "x-first-death-exchange",
  "x-first-death-queue",
  "x-first-death-reason",
];

/**
 * The message that replays a dead letter to its original exchange and routing key: the reason
 * headers are removed (a new failure writes new ones) and `x-solstice-replays` counts replays.
 * Returns undefined when the origin is unknown.
 */
export function replayMessage(letter: DeadLetter): OutgoingMessage | undefined {
  if (letter.originalExchange === undefined || letter.originalRoutingKey === undefined) return undefined;
  const headers: MessageHeaders = {};
  const dropped = new Set<string>([...Object.values(DEAD_LETTER_HEADERS), ...BROKER_DEATH_HEADERS]);
  for (const [key, value] of Object.entries(letter.headers)) if (!dropped.has(key)) headers[key] = value;
  const replays = letter.headers[REPLAYS_HEADER];
  headers[REPLAYS_HEADER] = (typeof replays === "number" ? replays : 0) + 1;
  return {
    exchange: letter.originalExchange,
    routingKey: letter.originalRoutingKey,
    body: letter.body,
    messageId: letter.messageId ?? `replay-${Date.now()}-${Math.random().toString(16).slice(2)}`,
    ...(letter.contentType === undefined ? {} : { contentType: letter.contentType }),
    ...(letter.type === undefined ? {} : { type: letter.type }),
    headers,
  };
}
