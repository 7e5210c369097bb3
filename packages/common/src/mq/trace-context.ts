import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Delivery, MessageHeaders, OutgoingMessage } from "./broker.ts";
import { isSpanless } from "./message-span-policy.ts";

// W3C trace context (traceparent, tracestate) in AMQP headers, whatever propagator the process
// registered (none when telemetry is not initialised): the wire format stays the same everywhere.
const w3c = new W3CTraceContextPropagator();

const headerSetter: TextMapSetter<MessageHeaders> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

const headerGetter: TextMapGetter<MessageHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (typeof value === "string") return value;
    if (Buffer.isBuffer(value)) return value.toString("utf8");
    return undefined;
  },
};

/** The tracer of the queue's spans; a no-op until an SDK is registered (see `initTelemetry`). */
const tracer = trace.getTracer("@solstice/common/mq");

/** Writes `traceparent` (and `tracestate`) of `ctx`'s span into `headers`; nothing without a valid span. */
export function injectTraceHeaders(ctx: Context, headers: MessageHeaders): void {
  w3c.inject(ctx, headers, headerSetter);
  // Baggage follows the process's own propagators, when any are registered.
  propagation.inject(ctx, headers, headerSetter);
}

/** The context a message's headers carry (the publisher's span as remote parent), or the root. */
export function extractTraceContext(headers: MessageHeaders): Context {
  return propagation.extract(w3c.extract(ROOT_CONTEXT, headers, headerGetter), headers, headerGetter);
}

/** Stands in for a span where a spanless message has none: ends as a no-op. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Starts the producer span of a publish (child of the active span) and returns it with the
 * headers to send, which carry it as `traceparent`. The span is named `publish <exchange>` (a
 * bounded name, per the messaging conventions). A spanless message (message-span-policy.ts) gets
 * no span: its headers carry the active span's context instead.
 */
export function startPublishSpan(message: OutgoingMessage): { span: Span; headers: MessageHeaders } {
  const parent = context.active();
  if (isSpanless(message.headers)) {
    const headers: MessageHeaders = { ...message.headers };
    injectTraceHeaders(parent, headers);
    return { span: NO_SPAN, headers };
  }
  const span = tracer.startSpan(`publish ${message.exchange}`, { kind: SpanKind.PRODUCER }, parent);
  // Attributes cost allocations on every message: only for spans that are recorded.
  if (span.isRecording()) {
    span.setAttributes({
      "messaging.system": "rabbitmq",
      "messaging.operation.type": "send",
      "messaging.destination.name": message.exchange,
      "messaging.rabbitmq.destination.routing_key": message.routingKey,
      "messaging.message.id": message.messageId,
      "messaging.message.body.size": message.body.length,
    });
  }
  const headers: MessageHeaders = { ...message.headers };
  injectTraceHeaders(trace.setSpan(parent, span), headers);
  return { span, headers };
}

/**
 * Starts the consumer span of a delivery, child of the publisher's span, and its context. Named
 * `process <exchange>`: the queue (one per runner) is an attribute, not part of the name. A
 * spanless delivery gets no span; its handler runs in the publisher's context.
 */
export function startProcessSpan(delivery: Delivery): { span: Span; context: Context } {
  const parent = extractTraceContext(delivery.headers);
  if (isSpanless(delivery.headers)) return { span: NO_SPAN, context: parent };
  const span = tracer.startSpan(`process ${delivery.exchange}`, { kind: SpanKind.CONSUMER }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      "messaging.system": "rabbitmq",
      "messaging.operation.type": "process",
      "messaging.destination.name": delivery.exchange,
      "messaging.rabbitmq.destination.routing_key": delivery.routingKey,
      "messaging.message.id": delivery.messageId ?? "",
      "messaging.solstice.queue": delivery.queue,
      "messaging.solstice.attempt": delivery.attempt,
    });
  }
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a span with an error status. */
export function endSpanWithError(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}
