import type { JobEvent } from "@solstice/common";
import { untilDatabaseAnswers } from "../persistence/database-retry.ts";
import type { LogLine } from "../persistence/job-records.ts";
import type { JobStore } from "../persistence/job-store.ts";
import { boundHeldEvent, DEFAULT_MAX_HELD_BYTES, heldBytes } from "./held-events.ts";

/** Settings of a {@link JobEventRecorder}. */
export interface JobEventRecorderOptions {
  readonly store: Pick<JobStore, "markStepsStarted" | "appendLogs" | "recordEventSeq">;
  /** Sends an event to the job's owner (the queue's `publishEvent(event, owner)`). */
  readonly publish: (event: JobEvent) => Promise<void>;
  /** Flush once this many events are buffered (default 256). */
  readonly flushEvents?: number | undefined;
  /** ... or this long after the first buffered event (default 50 ms: one small write per batch, so a line waits little). */
  readonly flushMs?: number | undefined;
  /** The store refused a write (an answer, not an outage): the events still go to the owner. */
  readonly onStoreError?: ((error: unknown, what: string) => void) | undefined;
  /** The database does not answer: the job's events are held (in order) until it does. */
  readonly onStoreUnavailable?: ((error: unknown, what: string) => void) | undefined;
  /** The database answers again after `onStoreUnavailable`: the held events go on. */
  readonly onStoreBack?: ((what: string) => void) | undefined;
  /** Log text held while the database does not answer, at most (default 16 MiB; see held-events.ts). */
  readonly maxHeldBytes?: number | undefined;
  /** Publishing an event failed: the owner will see a gap at its `seq`. */
  readonly onPublishError?: ((error: unknown, event: JobEvent) => void) | undefined;
}

/**
 * One job's event sink for the service. Events are buffered and flushed in batches; each flush
 *
 * 1. marks the job's steps as started at its first `step_started` (so a restart fails the job
 *    rather than running its steps twice) and raises the job's event high-water mark past the
 *    batch;
 * 2. hands the batch's log lines to the store (for `ciadm logs` and the HTTP API), in order;
 * 3. publishes the batch to the job's owner, in order, without waiting for those lines to be
 *    stored, unless the lines not yet stored pass `maxHeldBytes`, the database does not answer,
 *    or the batch ends the job: then it waits for them first. So a log streams at the queue's
 *    speed, not at the database's, and once the owner sees `job_finished` the whole log is stored.
 *
 * Because the high-water mark is written before any event of the batch leaves, whatever the
 * service sends for the job after a crash (`JobStore.nextEventSeq`) continues the owner's sequence
 * with no `seq` reused. `job_finished` flushes at once. The service opens one per job run through
 * `openJobEventChannel`, which numbers the events and closes it once.
 *
 * When the database does not answer (a restart, a network blip), each write is tried again with
 * back-off until it does (`untilDatabaseAnswers`; every write is idempotent), and the batches
 * wait, in order: nothing is lost, and once the outage is seen nothing more leaves before it is
 * stored (the batch in flight when it began may). Meanwhile the engine is
 * never blocked, and what is held is bounded (`maxHeldBytes`: past it, log events keep their `seq`
 * but not their lines; see held-events.ts). A write the database refuses is reported and skipped.
 */
export class JobEventRecorder {
  readonly #options: JobEventRecorderOptions;
  readonly #flushEvents: number;
  readonly #flushMs: number;
  #buffer: JobEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<void> = Promise.resolve();
  // Log lines handed to the store and not yet stored: their chain (never rejects) and text bytes.
  #logsStored: Promise<void> = Promise.resolve();
  #logBacklog = 0;
  #stepsMarked = false;
  #published = 0;
  #publishFailures = 0;
  // Bytes of log text taken and not yet through the store and the owner.
  #held = 0;
  // A write is waiting for the database to answer.
  #waiting = false;
  // Sinks waiting for a flush that stop waiting when the database goes away.
  #outageWaiters = new Set<() => void>();
  readonly #maxHeldBytes: number;

  constructor(options: JobEventRecorderOptions) {
    this.#options = options;
    this.#flushEvents = Math.max(1, options.flushEvents ?? 256);
    this.#flushMs = Math.max(0, options.flushMs ?? 50);
    this.#maxHeldBytes = Math.max(0, options.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES);
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

  /** Log text taken and not yet stored and published, in bytes (bounded while the database is away). */
  get heldBytes(): number {
    return this.#held;
  }

  /**
   * Takes one event. Resolves once it is buffered, or, for `job_finished` and a full buffer, once
   * the batch is stored and published (rejects when a publish of that batch failed) — except
   * while the database does not answer: then a full buffer is handed on without waiting, so the
   * engine goes on (what is held is bounded).
   */
  async handle(event: JobEvent): Promise<void> {
    const kept = this.#waiting ? boundHeldEvent(event, this.#held, this.#maxHeldBytes) : event;
    this.#held += heldBytes(kept);
    this.#buffer.push(kept);
    if (event.type === "job_finished" || this.#buffer.length >= this.#flushEvents) {
      await this.#unlessOutage(this.flush());
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

  /**
   * `work`, or less: resolves at once (leaving `work` to finish) when, or as soon as, the database
   * does not answer, so that the engine is not held up by an outage.
   */
  #unlessOutage(work: Promise<void>): Promise<void> {
    const detach = (): void => void work.catch(() => undefined);
    if (this.#waiting) {
      detach();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        detach();
        resolve();
      };
      this.#outageWaiters.add(wake);
      work.then(resolve, reject).finally(() => this.#outageWaiters.delete(wake));
    });
  }

  /** Stores and publishes what is buffered and stops the timer; never rejects. */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    await this.#logsStored;
  }

  async #write(batch: readonly JobEvent[]): Promise<void> {
    try {
      await this.#storeAndPublish(batch);
    } finally {
      for (const event of batch) this.#held -= heldBytes(event);
    }
  }

  async #storeAndPublish(batch: readonly JobEvent[]): Promise<void> {
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
      // One row per line: an event carries the lines a step printed together, joined by \n.
      const ts = new Date(e.timestamp);
      for (const [line, text] of e.text.split("\n").entries()) {
        lines.push({ requestId: e.request_id, seq: e.seq, line, step: e.step, stream: e.stream, text, ts });
      }
    }
    await this.#guard("recordEventSeq", () => store.recordEventSeq(requestId, last.seq + 1));
    if (lines.length > 0) this.#storeLines(lines);
    // The lines may trail the publishes (the forge keeps the whole log; the table is the API's
    // tail, and storing a line costs more than sending it), but only by a bounded backlog, never
    // past the job's end, and not at all while the database does not answer (see held-events.ts).
    if (
      this.#waiting ||
      this.#logBacklog > this.#maxHeldBytes ||
      batch.some((e) => e.type === "job_finished")
    ) {
      await this.#logsStored;
    }

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

  /** Queues a batch's lines for the store, in order; `#logsStored` settles once all are stored. */
  #storeLines(lines: readonly LogLine[]): void {
    const bytes = lines.reduce((sum, line) => sum + line.text.length, 0);
    this.#logBacklog += bytes;
    const store = this.#options.store;
    this.#logsStored = this.#logsStored
      .then(() => this.#guard("appendLogs", () => store.appendLogs(lines)))
      .finally(() => {
        this.#logBacklog -= bytes;
      });
  }

  /** Runs a store write until the database answers; a refusal is reported, not thrown. */
  async #guard(what: string, fn: () => Promise<unknown>): Promise<void> {
    let retried = false;
    try {
      await untilDatabaseAnswers(fn, {
        onRetry: (error) => {
          retried = true;
          if (this.#waiting) return;
          this.#waiting = true;
          this.#options.onStoreUnavailable?.(error, what);
          for (const wake of this.#outageWaiters) wake();
          this.#outageWaiters.clear();
        },
      });
    } catch (error) {
      this.#options.onStoreError?.(error, what);
    } finally {
      if (retried && this.#waiting) {
        this.#waiting = false;
        this.#options.onStoreBack?.(what);
      }
    }
  }
}
