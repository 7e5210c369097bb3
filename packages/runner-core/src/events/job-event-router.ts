import { EventReorderer, type JobEvent } from "@solstice/common";

// The event stream back, for every forge: job events arrive on the runner's durable queue (one per
// registration), in any order, perhaps twice. The router hands each running job its events in
// sequence order, tells it of events that were lost, and resolves a delivery only once the forge
// holds what it produced, so that the queue acknowledges it only then: a runner killed mid-job
// gets the unacknowledged events again and loses no line.

/** What the router needs of a running job (the forge's report of it). */
export interface RoutedJob {
  /** Applies the next event, in sequence order. */
  apply(event: JobEvent): void;
  /** Events `from`..`to` will never come (the reorderer gave up on them). */
  lost(from: number, to: number): void;
  /** Called after a delivery was applied: time to report. */
  changed(): void;
  /** Resolves once the forge holds everything up to event `seq`. */
  waitDurable(seq: number): Promise<void>;
}

/** What became of one delivered event. */
export type RouteOutcome = "applied" | "duplicate" | "unknown-job";

/** Routes job events to the running jobs, by request id. */
export class JobEventRouter<J extends RoutedJob> {
  readonly #jobs = new Map<string, { job: J; reorderer: EventReorderer }>();

  /** Starts routing a job's events; `firstSeq` is where a resumed job's stream continues. */
  track(requestId: string, job: J, firstSeq = 0): void {
    this.#jobs.set(requestId, { job, reorderer: new EventReorderer({ firstSeq }) });
  }

  /** Stops routing (the job is reported); its later events are dropped and acknowledged. */
  untrack(requestId: string): void {
    this.#jobs.delete(requestId);
  }

  get(requestId: string): J | undefined {
    return this.#jobs.get(requestId)?.job;
  }

  /** Every job being routed. */
  jobs(): J[] {
    return [...this.#jobs.values()].map((entry) => entry.job);
  }

  get size(): number {
    return this.#jobs.size;
  }

  /**
   * The queue's event handler: applies what the event releases, and resolves once the event may be
   * acknowledged (at once for a duplicate or a job no running task owns).
   */
  async deliver(event: JobEvent): Promise<RouteOutcome> {
    const entry = this.#jobs.get(event.request_id);
    if (entry === undefined) return "unknown-job";
    const out = entry.reorderer.push(event);
    for (const next of out.events) entry.job.apply(next);
    for (const gap of out.skipped) entry.job.lost(gap.from, gap.to);
    entry.job.changed();
    if (out.duplicates.length > 0) return "duplicate";
    await entry.job.waitDurable(event.seq);
    return "applied";
  }
}
