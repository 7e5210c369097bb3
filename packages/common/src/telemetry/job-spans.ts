import {
  type AttributeValue,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TimeInput,
  trace,
} from "@opentelemetry/api";
import { withRequestId } from "./trace-log-fields.ts";
import { redactUrlCredentials } from "./url-credentials.ts";

// The spans of a job's trace (docs/telemetry.md draws the tree), for packages that do not speak
// OpenTelemetry themselves: a span is started with its attributes, made active while its work
// runs (so child spans, queue publishes and log lines join it), and ended with the work's outcome.

/** Attribute names of Solstice's spans. */
export const SPAN_ATTRIBUTES = {
  requestId: "solstice.request_id",
  label: "solstice.label",
  image: "solstice.image",
  hostId: "solstice.host_id",
  accel: "solstice.vm.accel",
  attempt: "solstice.attempt",
  vmName: "solstice.vm.name",
  imageBytes: "solstice.image.bytes",
  stepName: "solstice.step.name",
  stepIndex: "solstice.step.index",
  stepExitCode: "solstice.step.exit_code",
  stepOutcome: "solstice.step.outcome",
  stepConclusion: "solstice.step.conclusion",
  conclusion: "solstice.conclusion",
  taskId: "solstice.forge.task_id",
  forgeCall: "solstice.forge.call",
  rows: "solstice.report.rows",
  warm: "solstice.vm.warm",
} as const;

/** A span's attributes: undefined values are left out. */
export type SpanFields = Readonly<Record<string, AttributeValue | undefined>>;

/** Where a span hangs in its trace: a context captured earlier (e.g. when a job was queued). */
export type TraceParent = Context;

/** A started span: attributes and events may be added until it ends. */
export interface OpenSpan {
  setAttributes(fields: SpanFields): void;
  /** A point in time inside the span, e.g. a console milestone while booting. */
  addEvent(name: string, fields?: SpanFields): void;
  /** Runs `fn` with this span active: its spans, publishes and log lines join this span. */
  run<T>(fn: () => T): T;
  /** Names the job once it is known: an attribute, and `request_id` on lines logged in later `run`s. */
  setRequestId(requestId: string): void;
  /**
   * Ends the span, in error when `error` is given (its text with URL credentials masked; mask job
   * secrets before); only the first call counts.
   */
  end(error?: unknown, endTime?: TimeInput): void;
}

/** Options of a span. */
export interface SpanOptions {
  /** Default: the active context. */
  readonly parent?: TraceParent | undefined;
  /** When the work began, if before now (e.g. a forge call made before the task was known). */
  readonly startTime?: TimeInput | undefined;
  /** A job's request id, carried by the context so every log line inside has `request_id`. */
  readonly requestId?: string | undefined;
  /** `client` for calls to another service (the forge), `producer` for publishes; default internal. */
  readonly kind?: "internal" | "client" | "producer" | "consumer";
}

const tracer = trace.getTracer("@solstice/common/job");

const KINDS = {
  internal: SpanKind.INTERNAL,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
} as const;

/** The context active now, to hang a later span under it (see {@link SpanOptions.parent}). */
export function currentTraceParent(): TraceParent {
  return context.active();
}

function cleanFields(fields: SpanFields): Record<string, AttributeValue> {
  const clean: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) clean[key] = value;
  return clean;
}

/**
 * Starts a span (not yet active: see {@link OpenSpan.run}).
 *
 * @example
 *   const wait = startSpan("wait for capacity", { [SPAN_ATTRIBUTES.label]: label });
 *   // ... later, when the job starts:
 *   wait.end();
 */
export function startSpan(name: string, fields: SpanFields = {}, options: SpanOptions = {}): OpenSpan {
  let parent = options.parent ?? context.active();
  if (options.requestId !== undefined) parent = withRequestId(options.requestId, parent);
  const span: Span = tracer.startSpan(
    name,
    {
      kind: KINDS[options.kind ?? "internal"],
      attributes: cleanFields(fields),
      ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
    },
    parent,
  );
  let active = trace.setSpan(parent, span);
  let ended = false;
  return {
    setAttributes: (more) => span.setAttributes(cleanFields(more)),
    addEvent: (eventName, more) =>
      span.addEvent(eventName, more === undefined ? undefined : cleanFields(more)),
    run: (fn) => context.with(active, fn),
    setRequestId: (requestId) => {
      span.setAttribute(SPAN_ATTRIBUTES.requestId, requestId);
      active = withRequestId(requestId, active);
    },
    end: (error, endTime) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) {
        // Spans leave the process: an error's text may quote a clone URL with its token.
        const message = redactUrlCredentials(error instanceof Error ? error.message : String(error));
        if (error instanceof Error)
          span.recordException({
            name: error.name,
            message,
            ...(error.stack === undefined ? {} : { stack: redactUrlCredentials(error.stack) }),
          });
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
      span.end(endTime);
    },
  };
}

/**
 * Runs `work` inside a new active span, ended when `work` settles (in error when it throws).
 *
 * @example
 *   await inSpan("vm prepare", { [SPAN_ATTRIBUTES.vmName]: spec.name }, () => hv.prepare(spec));
 */
export async function inSpan<T>(
  name: string,
  fields: SpanFields,
  work: (span: OpenSpan) => Promise<T> | T,
  options: SpanOptions = {},
): Promise<T> {
  const span = startSpan(name, fields, options);
  try {
    const result = await span.run(() => work(span));
    span.end();
    return result;
  } catch (error) {
    span.end(error);
    throw error;
  }
}
