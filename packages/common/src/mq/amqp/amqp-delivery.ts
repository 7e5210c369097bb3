import type { Message } from "amqplib";
import type { Delivery } from "../broker.ts";

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** An amqplib message as a transport-neutral delivery (before its attempt is counted). */
export function toDelivery(message: Message, queue: string): Omit<Delivery, "attempt"> {
  const p = message.properties;
  return {
    body: message.content,
    messageId: optionalString(p.messageId),
    contentType: optionalString(p.contentType),
    type: optionalString(p.type),
    headers: p.headers ?? {},
    timestamp: typeof p.timestamp === "number" ? p.timestamp : undefined,
    exchange: message.fields.exchange,
    routingKey: message.fields.routingKey,
    queue,
    redelivered: message.fields.redelivered,
  };
}
