import { JobEventMismatchError } from "../errors.ts";
import { JOB_EVENT_SCHEMA_VERSION, type JobEvent, type UnsequencedJobEvent } from "./job-event.ts";
import { nowRfc3339 } from "./timestamp.ts";

/** Options of an `EventSequencer`. */
export interface EventSequencerOptions {
  /** The first `seq` to assign: 0 for a new job, the next unused one when resuming a job. */
  readonly startAt?: number;
  /** Where timestamps come from when an event has none (tests pass a fixed clock). */
  readonly now?: () => string;
}

/**
 * Stamps the events of one job with `request_id`, `schema_version`, a timestamp and a `seq`
 * that starts at 0 and grows by one per event, whatever its type. Pure: no I/O.
 *
 * @example
 *   const seq = new EventSequencer(req.request_id);
 *   publish(seq.next({ type: "log", step: 0, stream: "stdout", text: "hello" }));
 */
export class EventSequencer {
  readonly requestId: string;
  #next: number;
  readonly #now: () => string;

  constructor(requestId: string, options: EventSequencerOptions = {}) {
    this.requestId = requestId;
    this.#next = options.startAt ?? 0;
    this.#now = options.now ?? nowRfc3339;
  }

  /** The `seq` the next event will get (= how many events were stamped, when starting at 0). */
  get nextSeq(): number {
    return this.#next;
  }

  /** Stamps one event and advances the sequence. */
  next(event: UnsequencedJobEvent): JobEvent {
    const stamped = {
      ...event,
      schema_version: JOB_EVENT_SCHEMA_VERSION,
      request_id: this.requestId,
      timestamp: event.timestamp ?? this.#now(),
      seq: this.#next,
    } as JobEvent;
    this.#next += 1;
    return stamped;
  }

  /** Stamps a copy of an event that already belongs to this job (re-sequencing). */
  restamp(event: JobEvent): JobEvent {
    if (event.request_id !== this.requestId)
      throw new JobEventMismatchError(this.requestId, event.request_id);
    const stamped = { ...event, seq: this.#next };
    this.#next += 1;
    return stamped;
  }
}
