import type { JobEvent } from "@solstice/common";
import type { LogLine } from "../persistence/job-records.ts";
import type { JobStore } from "../persistence/job-store.ts";

/** Settings of a {@link JobEventRecorder}. */
export interface JobEventRecorderOptions {
  readonly store: JobStore;
  /** Sends an event to the job's owner (the queue's `publishEvent(event, owner)`). */
  readonly publish: (event: JobEvent) => Promise<void>;
  /** Store log lines once this many are buffered (default 200). */
  readonly flushLines?: number | undefined;
  /** ... or this long after the first buffered line (default 250 ms). */
  readonly flushMs?: number | undefined;
  /** A store write failed (the events still went to the owner). */
  readonly onStoreError?: ((error: unknown, what: string) => void) | undefined;
}

/**
 * One job's event sink for the service: every event goes to the job's owner, log lines are also
 * stored (in batches) for `ciadm logs` and the HTTP API, and the first `step_started` marks the
 * job's steps as started (so a restart fails it rather than running its steps twice). Create one
 * per job and `close()` it in a `finally`.
 *
 * Lines are stored before they are published, so a line the owner saw is in the store unless the
 * store failed (reported to `onStoreError`; the owner's copy is the full log in any case).
 *
 * @example
 *   const recorder = new JobEventRecorder({ store, publish: (e) => queue.publishEvent(e, request.owner) });
 *   try { await engine.runJob(request, image, { sink: recorder.sink }); } finally { await recorder.close(); }
 */
export class JobEventRecorder {
  readonly #options: JobEventRecorderOptions;
  readonly #flushLines: number;
  readonly #flushMs: number;
  #buffer: LogLine[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<void> = Promise.resolve();
  #stepsMarked = false;

  constructor(options: JobEventRecorderOptions) {
    this.#options = options;
    this.#flushLines = Math.max(1, options.flushLines ?? 200);
    this.#flushMs = Math.max(0, options.flushMs ?? 250);
  }

  /** The sink to hand to the engine (`runJob(..., { sink: recorder.sink })`). */
  readonly sink = (event: JobEvent): Promise<void> => this.handle(event);

  /** Records and publishes one event. Rejects when publishing fails (the store part is done). */
  async handle(event: JobEvent): Promise<void> {
    switch (event.type) {
      case "log":
        this.#buffer.push({
          requestId: event.request_id,
          seq: event.seq,
          step: event.step,
          stream: event.stream,
          text: event.text,
          ts: new Date(event.timestamp),
        });
        if (this.#buffer.length >= this.#flushLines) await this.flush();
        else this.#timer ??= setTimeout(() => void this.flush(), this.#flushMs);
        break;
      case "step_started":
        if (!this.#stepsMarked) {
          this.#stepsMarked = true;
          await this.#guard("markStepsStarted", () => this.#options.store.markStepsStarted(event.request_id));
        }
        break;
      case "job_finished":
        await this.flush();
        break;
      default:
        break;
    }
    await this.#options.publish(event);
  }

  /** Stores the buffered lines now. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#buffer;
    this.#buffer = [];
    // Writes are chained so that batches reach the store in order.
    this.#pending = this.#pending.then(() =>
      lines.length === 0 ? undefined : this.#guard("appendLogs", () => this.#options.store.appendLogs(lines)),
    );
    return this.#pending;
  }

  /** Stores what is buffered and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
  }

  async #guard(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.#options.onStoreError?.(error, what);
    }
  }
}
