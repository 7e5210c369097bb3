import { SpanKind } from "@opentelemetry/api";
import type { InMemorySpanExporter, ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect } from "vitest";

/** The producer and consumer spans of one message, once both are finished. */
export function messageSpans(
  exporter: InMemorySpanExporter,
  messageId: string,
): { producer: ReadableSpan | undefined; consumer: ReadableSpan | undefined } {
  const spans = exporter.getFinishedSpans().filter((s) => s.attributes["messaging.message.id"] === messageId);
  return {
    producer: spans.find((s) => s.kind === SpanKind.PRODUCER),
    consumer: spans.find((s) => s.kind === SpanKind.CONSUMER),
  };
}

/**
 * Checks one job is one trace: root span → producer span (publish) → consumer span (process),
 * the consumer span active in the handler, and the `traceparent` header naming the producer.
 */
export function expectOneTrace(options: {
  exporter: InMemorySpanExporter;
  messageId: string;
  root: { traceId: string; spanId: string };
  inHandler: { traceId: string; spanId: string } | undefined;
  traceparent: unknown;
  serviceName: string;
}): void {
  const { producer, consumer } = messageSpans(options.exporter, options.messageId);
  expect(producer).toBeDefined();
  expect(consumer).toBeDefined();
  if (producer === undefined || consumer === undefined) return;
  const p = producer.spanContext();
  const c = consumer.spanContext();
  expect(p.traceId).toBe(options.root.traceId);
  expect(producer.parentSpanContext?.spanId).toBe(options.root.spanId);
  expect(c.traceId).toBe(options.root.traceId);
  expect(consumer.parentSpanContext?.spanId).toBe(p.spanId);
  expect(consumer.parentSpanContext?.isRemote).toBe(true);
  expect(options.inHandler).toEqual({ traceId: c.traceId, spanId: c.spanId });
  expect(options.traceparent).toBe(`00-${p.traceId}-${p.spanId}-01`);
  expect(consumer.resource.attributes["service.name"]).toBe(options.serviceName);
}
