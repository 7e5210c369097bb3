import { JobEventMismatchError } from "../errors.ts";
import type { JobEvent } from "./job-event.ts";

/** A run of missing sequence numbers, both ends included. */
export interface SeqGap {
  readonly from: number;
  readonly to: number;
}

/** What one call to the reorderer yields. */
export interface ReorderOutput {
  /** Events now deliverable, in `seq` order. */
  readonly events: JobEvent[];
  /** `seq`s received again (already delivered or already buffered): dropped. */
  readonly duplicates: number[];
  /** Runs of `seq`s given up on (skipped) to let later events through. */
  readonly skipped: SeqGap[];
}

/** Options of an `EventReorderer`. */
export interface EventReordererOptions {
  /** The first `seq` expected: 0 for a whole job; later when resuming from a known point. */
  readonly firstSeq?: number;
  /**
   * At most this many events are held while waiting for a missing one; beyond it the gap is
   * skipped (and reported) rather than growing without bound. Default 10,000.
   */
  readonly maxBuffered?: number;
}

/**
 * Restores the order of one job's events on the consumer side: buffers events that arrive
 * ahead of a missing `seq`, delivers them in order once it arrives, drops duplicates
 * (at-least-once delivery), and reports gaps. Pure: the caller decides how long to wait before
 * calling `skipMissing()` (e.g. a few seconds, or when the queue is drained).
 *
 * @example
 *   const r = new EventReorderer();
 *   for (const e of r.push(event).events) forward(e);
 */
export class EventReorderer {
  #expected: number;
  #requestId: string | undefined;
  readonly #maxBuffered: number;
  readonly #buffer = new Map<number, JobEvent>();
  #finished = false;

  constructor(options: EventReordererOptions = {}) {
    this.#expected = options.firstSeq ?? 0;
    this.#maxBuffered = options.maxBuffered ?? 10_000;
  }

  /** The next `seq` to deliver. */
  get expectedSeq(): number {
    return this.#expected;
  }

  /** How many events wait for a missing one. */
  get buffered(): number {
    return this.#buffer.size;
  }

  /** True once the `job_finished` event has been delivered. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Takes one event; returns what became deliverable. */
  push(event: JobEvent): ReorderOutput {
    if (this.#requestId === undefined) this.#requestId = event.request_id;
    else if (event.request_id !== this.#requestId) {
      throw new JobEventMismatchError(this.#requestId, event.request_id);
    }
    if (event.seq < this.#expected || this.#buffer.has(event.seq)) {
      return { events: [], duplicates: [event.seq], skipped: [] };
    }
    this.#buffer.set(event.seq, event);
    const events = this.#drain();
    const skipped: SeqGap[] = [];
    while (this.#buffer.size > this.#maxBuffered) {
      const gap = this.#skipOneGap();
      if (gap === undefined) break;
      skipped.push(gap);
      events.push(...this.#drain());
    }
    return { events, duplicates: [], skipped };
  }

  /** The runs of `seq`s missing between what was delivered and the highest buffered event. */
  missing(): SeqGap[] {
    const gaps: SeqGap[] = [];
    let cursor = this.#expected;
    for (const seq of [...this.#buffer.keys()].sort((a, b) => a - b)) {
      if (seq > cursor) gaps.push({ from: cursor, to: seq - 1 });
      cursor = seq + 1;
    }
    return gaps;
  }

  /** Gives up on every missing `seq`: delivers all buffered events in order and reports the gaps. */
  skipMissing(): ReorderOutput {
    const skipped = this.missing();
    const events: JobEvent[] = [];
    for (const seq of [...this.#buffer.keys()].sort((a, b) => a - b)) {
      const event = this.#buffer.get(seq)!;
      this.#buffer.delete(seq);
      events.push(event);
      this.#expected = seq + 1;
      if (event.type === "job_finished") this.#finished = true;
    }
    return { events, duplicates: [], skipped };
  }

  #drain(): JobEvent[] {
    const out: JobEvent[] = [];
    for (let e = this.#buffer.get(this.#expected); e !== undefined; e = this.#buffer.get(this.#expected)) {
      this.#buffer.delete(this.#expected);
      this.#expected += 1;
      if (e.type === "job_finished") this.#finished = true;
      out.push(e);
    }
    return out;
  }

  #skipOneGap(): SeqGap | undefined {
    const first = this.missing()[0];
    if (first === undefined) return undefined;
    this.#expected = first.to + 1;
    return first;
  }
}
