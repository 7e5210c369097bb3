import type { CancelRequest, JobQueue, ServiceLogger, Subscription } from "@solstice/common";
import type { JobStore } from "../persistence/job-store.ts";
import type { JobRunner } from "./job-runner.ts";

/** Settings of a {@link CancelListener}. */
export interface CancelListenerOptions {
  readonly queue: Pick<JobQueue, "consumeCancels">;
  readonly store: JobStore;
  readonly runner: JobRunner;
  readonly hostId: string;
  readonly logger: ServiceLogger;
}

/**
 * Receives cancel requests (every orchestrator gets each one, on its own queue
 * `solstice.cancel.<host id>`) and acts on those for jobs of this host: a running job is aborted
 * (VM stopped, reported cancelled), a queued one is dropped and reported cancelled. A cancel for a
 * job nobody has recorded yet is remembered, in case the job arrives here later.
 */
export class CancelListener {
  readonly #options: CancelListenerOptions;
  #subscription: Subscription | undefined;

  constructor(options: CancelListenerOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#subscription = await this.#options.queue.consumeCancels(this.#options.hostId, (cancel) =>
      this.handle(cancel),
    );
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    await subscription?.cancel({ timeoutMs });
  }

  /** Acts on one cancel request. */
  async handle(cancel: CancelRequest): Promise<void> {
    const { runner, store, logger } = this.#options;
    const outcome = await runner.cancel(cancel.request_id, cancel.reason);
    if (outcome !== "unknown") {
      logger.info(
        { requestId: cancel.request_id, by: cancel.requested_by, was: outcome },
        "job cancelled on request",
      );
      return;
    }
    // Another host's job (or finished): not ours to act on. Unknown everywhere: it may come here.
    if ((await store.getJob(cancel.request_id)) === undefined) {
      runner.rememberCancel(cancel.request_id, cancel.reason);
    }
  }
}
