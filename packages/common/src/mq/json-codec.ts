import type { z } from "zod";
import { MessageTooLargeError } from "../errors.ts";
import { parseMessageText } from "../messages/index.ts";
import type { Delivery, DeliveryHandler, MessageHeaders, OutgoingMessage } from "./broker.ts";

/** The header naming a message's schema, e.g. `jobrequest.v1` (also in the AMQP `type` property). */
export const SCHEMA_HEADER = "x-schema";

/** What a typed handler learns about the message besides its body. */
export type MessageContext = Omit<Delivery, "body">;

/**
 * Handles one decoded message. Resolve to ack. Throw `PermanentError` to dead-letter it at once;
 * any other error is retried (requeued after a delay) up to the consumer's attempt limit.
 */
export type MessageHandler<T> = (message: T, context: MessageContext) => Promise<void>;

/** Where and how to send a JSON message. */
export interface JsonMessageFields {
  readonly exchange: string;
  readonly routingKey: string;
  readonly messageId: string;
  /** The schema name, sent as the `type` property and the `x-schema` header. */
  readonly schema: string;
  readonly headers?: MessageHeaders;
  readonly timeoutMs?: number;
}

/**
 * A JSON message (`application/json`, UTF-8) carrying `value`.
 *
 * @example
 *   await broker.publish(jsonMessage(req, { exchange, routingKey, messageId: req.request_id, schema: "jobrequest.v1" }));
 */
export function jsonMessage(value: unknown, fields: JsonMessageFields): OutgoingMessage {
  return {
    exchange: fields.exchange,
    routingKey: fields.routingKey,
    body: Buffer.from(JSON.stringify(value), "utf8"),
    messageId: fields.messageId,
    contentType: "application/json",
    type: fields.schema,
    headers: { ...fields.headers, [SCHEMA_HEADER]: fields.schema },
    ...(fields.timeoutMs === undefined ? {} : { timeoutMs: fields.timeoutMs }),
  };
}

/** Options of {@link jsonHandler}. */
export interface JsonHandlerOptions {
  /** A body larger than this many bytes is refused before it is decoded (`MessageTooLargeError`). */
  readonly maxBytes?: number | undefined;
}

/**
 * A delivery handler that decodes the body as JSON, validates it with `schema`, and calls
 * `handler`. A body that is not JSON or does not match throws `MessageValidationError`, which
 * the consumer dead-letters with the path of each bad field as the reason; a body over
 * `maxBytes` throws `MessageTooLargeError` without being decoded.
 */
export function jsonHandler<S extends z.ZodType>(
  schema: S,
  handler: MessageHandler<z.output<S>>,
  options: JsonHandlerOptions = {},
): DeliveryHandler {
  return async (delivery) => {
    if (options.maxBytes !== undefined && delivery.body.length > options.maxBytes) {
      throw new MessageTooLargeError(schema.description ?? "message", delivery.body.length, options.maxBytes);
    }
    // The delivery is the context (its body is there too, but typed away).
    await handler(parseMessageText(schema, delivery.body.toString("utf8")), delivery);
  };
}
