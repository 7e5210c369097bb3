import type { JobEvent } from "@solstice/common";

// While the database does not answer, a job's events wait in the recorder (they may leave only
// once stored). The wait is bounded: past a budget of held log text, a log event keeps its place
// in the sequence (its `seq`, so the owner sees no gap) but its lines are replaced by one line
// saying how many were dropped. Other events (steps, the job's end) are small and always kept.

/** What a job may hold while the database does not answer, by default: 16 MiB of log text. */
export const DEFAULT_MAX_HELD_BYTES = 16 * 1024 * 1024;

/** What an event weighs while held: its log text, or a little for any other event. */
export function heldBytes(event: JobEvent): number {
  return event.type === "log" ? event.text.length : 256;
}

/**
 * The event to hold when `held` bytes already are: itself, or, for a log event that would go
 * beyond `maxBytes`, the same event with one line in place of its text.
 *
 * @example
 *   boundHeldEvent(logEvent, 16 << 20, 16 << 20).text
 *   // "[500 lines not kept: the database did not answer for too long]"
 */
export function boundHeldEvent(event: JobEvent, held: number, maxBytes: number): JobEvent {
  if (event.type !== "log" || held + event.text.length <= maxBytes) return event;
  const lines = event.text.split("\n").length;
  return {
    ...event,
    text: `[${lines} ${lines === 1 ? "line" : "lines"} not kept: the database did not answer for too long]`,
  };
}
