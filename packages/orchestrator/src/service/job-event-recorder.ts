import type { JobEvent } from "@solstice/common";
import type { LogLine } from "../persistence/job-records.ts";
import type { JobStore } from "../persistence/job-store.ts";

/** Settings of a {@link JobEventRecorder}. */
export interface JobEventRecorderOptions {
  readonly store: JobStore;
  /** Sends an event to the job's owner (the queue's `publishEvent(event, owner)`). */
  readonly publish: (event: JobEvent) => Promise<void>;
  /** Flush once this many events are buffered (default 256). */
  readonly flushEvents?: number | undefined;
  /** ... or this long after the first buffered event (default 250 ms). */
  readonly flushMs?: number | undefined;
  /** A store write failed (the events still went to the owner). */
  readonly onStoreError?: ((error: unknown, what: string) => void) | undefined;
  /** Publishing an event failed: the owner will see a gap at its `seq`. */
  readonly onPublishError?: ((error: unknown, event: JobEvent) => void) | undefined;
}

/**
 * One job's event sink for the service. Events are buffered and flushed in batches; each flush
 *
 * 1. stores the batch's log lines (for `ciadm logs` and the HTTP API), marks the job's steps as
 *    started at its first `step_started` (so a restart fails the job rather than running its
 *    steps twice), and raises the job's event high-water mark past the batch;
 * 2. then publishes the batch to the job's owner, in order.
 *
 * Because the high-water mark is written before any event of the batch leaves, whatever the
 * service sends for the job after a crash (`JobStore.nextEventSeq`) continues the owner's sequence
 * with no `seq` reused. `job_finished` flushes at once. The service opens one per job run through
 * `openJobEventChannel`, which numbers the events and closes it once.
 */
export class JobEventRecorder {
  readonly #options: JobEventRecorderOptions;
  readonly #flushEvents: number;
  readonly #flushMs: number;
  #buffer: JobEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<void> = Promise.resolve();
  #stepsMarked = false;
  #published = 0;
  #publishFailures = 0;

  constructor(options: JobEventRecorderOptions) {
    this.#options = options;
    this.#flushEvents = Math.max(1, options.flushEvents ?? 256);
    this.#flushMs = Math.max(0, options.flushMs ?? 250);
  }

  /** The sink to hand to the engine (`runJob(..., { sink: recorder.sink })`). */
  readonly sink = (event: JobEvent): Promise<void> => this.handle(event);

  /** Events published so far. */
  get published(): number {
    return this.#published;
  }

  /** Events whose publish failed so far. */
  get publishFailures(): number {
    return this.#publishFailures;
  }

  /**
   * Takes one event. Resolves once it is buffered, or, for
   * `job_finished` and a full buffer, once the batch is stored and published; rejects when a
   * publish of that batch failed.
   */
  async handle(event: JobEvent): Promise<void> {
    this.#buffer.push(event);
    if (event.type === "job_finished" || this.#buffer.length >= this.#flushEvents) {
      await this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      // Failures are reported through onPublishError/onStoreError.
      this.flush().catch(() => undefined);
    }, this.#flushMs);
  }

  /** Stores and publishes what is buffered; rejects when a publish of this batch failed. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#buffer;
    this.#buffer = [];
    // Batches are chained so that they reach the store and the owner in order.
    this.#pending = this.#pending.catch(() => undefined).then(() => this.#write(batch));
    return this.#pending;
  }

  /** Stores and publishes what is buffered and stops the timer; never rejects. */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
  }

  async #write(batch: readonly JobEvent[]): Promise<void> {
    const last = batch[batch.length - 1];
    if (last === undefined) return;
    const { store } = this.#options;
    const requestId = last.request_id;
    if (!this.#stepsMarked && batch.some((e) => e.type === "step_started")) {
      this.#stepsMarked = true;
      await this.#guard("markStepsStarted", () => store.markStepsStarted(requestId));
    }
    const lines: LogLine[] = [];
    for (const e of batch) {
      if (e.type !== "log") continue;
      lines.push({
        requestId: e.request_id,
        seq: e.seq,
        step: e.step,
        stream: e.stream,
        text: e.text,
        ts: new Date(e.timestamp),
      });
    }
    if (lines.length > 0) await this.#guard("appendLogs", () => store.appendLogs(lines));
    await this.#guard("recordEventSeq", () => store.recordEventSeq(requestId, last.seq + 1));

    // All publishes are handed to the queue at once: it sends them in call order.
    const results = await Promise.allSettled(batch.map((e) => this.#options.publish(e)));
    const failures: unknown[] = [];
    results.forEach((result, i) => {
      if (result.status === "fulfilled") {
        this.#published += 1;
        return;
      }
      this.#publishFailures += 1;
      failures.push(result.reason);
      const event = batch[i];
      if (event !== undefined) this.#options.onPublishError?.(result.reason, event);
    });
    if (failures.length > 0) throw failures[0];
  }

  async #guard(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.#options.onStoreError?.(error, what);
    }
  }
}
