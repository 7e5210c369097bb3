import { type Context, context, createContextKey, trace } from "@opentelemetry/api";

// What joins a log line to its trace and its job: the active span's ids and the request id the
// job's code put in the context. Read by the logger's mixin on every line, so it stays cheap.

const REQUEST_ID = createContextKey("solstice.request_id");

/** `ctx` (default: the active context) with the job's request id, for every line logged within. */
export function withRequestId(requestId: string, ctx: Context = context.active()): Context {
  return ctx.setValue(REQUEST_ID, requestId);
}

/** Runs `fn` with the job's request id in the context: every line it logs carries `request_id`. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return context.with(withRequestId(requestId), fn);
}

/** The request id the context carries, if any. */
export function requestIdOf(ctx: Context): string | undefined {
  const value = ctx.getValue(REQUEST_ID);
  return typeof value === "string" ? value : undefined;
}

/** The fields a log line written in `ctx` carries. */
export interface TraceLogFields {
  trace_id?: string;
  span_id?: string;
  request_id?: string;
}

/**
 * `trace_id` and `span_id` of the span active in `ctx` (when it is a valid one) and the context's
 * `request_id`; empty outside any span or job.
 *
 * @example
 *   tracer.startActiveSpan("job", (span) => traceLogFields(context.active()))
 *   // { trace_id: "4bf9...", span_id: "00f0..." }
 */
export function traceLogFields(ctx: Context = context.active()): TraceLogFields {
  const fields: TraceLogFields = {};
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext !== undefined && trace.isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
  }
  const requestId = requestIdOf(ctx);
  if (requestId !== undefined) fields.request_id = requestId;
  return fields;
}
