import type { JobEvent } from "../messages/job-event.ts";
import type { MessageHeaders } from "./broker.ts";

// A job's log lines would be a span pair each (publish + process): a 100,000-line job, 200,000
// spans. Only the events that mark the job's course (started, each step started and finished,
// finished) get their own publish and process spans; a log event carries the trace context of the
// span active where it was written (the step's, say) and is marked so that neither end opens a
// span for it. Its consumer still runs in that context, so its log lines join the trace.

/** The AMQP header marking a message that travels without spans of its own. */
export const SPANLESS_HEADER = "x-solstice-spanless";

/** Whether a job event gets its own publish and process spans (all but log lines). */
export function eventHasSpans(event: Pick<JobEvent, "type">): boolean {
  return event.type !== "log";
}

/** The headers that mark a message spanless; none for a message with spans. */
export function spanHeaders(withSpans: boolean): MessageHeaders {
  return withSpans ? {} : { [SPANLESS_HEADER]: "1" };
}

/** Whether a message (outgoing or delivered) was marked spanless. */
export function isSpanless(headers: MessageHeaders | undefined): boolean {
  const value = headers?.[SPANLESS_HEADER];
  if (typeof value === "string") return value === "1";
  if (Buffer.isBuffer(value)) return value.toString("utf8") === "1";
  return false;
}
