import type { JobQueue, JobRequest, MessageContext, ServiceLogger, Subscription } from "@solstice/common";
import { type ImageMap, resolveLabel, servedLabels } from "@solstice/common";
import { OrchestratorStoppingError } from "../errors.ts";
import type { OrchestratorMetrics } from "../http/orchestrator-metrics.ts";
import type { JobRecord } from "../persistence/job-records.ts";
import type { JobStore } from "../persistence/job-store.ts";
import type { Admission } from "./admission-gate.ts";
import { reportJobEnd } from "./job-end-report.ts";
import type { JobRunner } from "./job-runner.ts";

/** Settings of a {@link JobIntake}. */
export interface JobIntakeOptions {
  readonly queue: JobQueue;
  readonly store: JobStore;
  readonly runner: JobRunner;
  readonly imageMap: ImageMap;
  readonly hostId: string;
  /** Unacknowledged requests at once: the host's capacity (MAX_CONCURRENCY / AMQP_PREFETCH). */
  readonly prefetch: number;
  readonly metrics: OrchestratorMetrics;
  readonly logger: ServiceLogger;
}

/**
 * Takes job requests from the queue. For each delivery:
 *
 * 1. resolves its label (`runs_on` → alias → default label);
 * 2. waits at the admission gate until this host may take it (back-pressure);
 * 3. records it `accepted` (idempotent by request id) — the delivery is acknowledged only after
 *    this, when the handler returns;
 * 4. a request whose id is already recorded (a redelivery) is not run again;
 *    a label this host does not serve is reported failed with that reason (events and store);
 *    a job whose cancel arrived first is reported cancelled;
 *    anything else is enqueued in the scheduler.
 *
 * Requests that do not parse never reach here: the queue dead-letters them with the reason.
 */
export class JobIntake {
  readonly #options: JobIntakeOptions;
  #subscription: Subscription | undefined;

  constructor(options: JobIntakeOptions) {
    this.#options = options;
  }

  /** Starts consuming with prefetch = capacity. */
  async start(): Promise<void> {
    this.#subscription = await this.#options.queue.consumeJobs(
      (request, context) => this.handle(request, context),
      {
        prefetch: this.#options.prefetch,
      },
    );
  }

  /** Stops consuming: deliveries waiting at the gate go back to the queue unacknowledged. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#options.runner.gate.close(new OrchestratorStoppingError());
    const subscription = this.#subscription;
    this.#subscription = undefined;
    await subscription?.cancel({ timeoutMs });
  }

  /** Handles one job request; resolves to acknowledge it. */
  async handle(request: JobRequest, context: Pick<MessageContext, "redelivered" | "attempt">): Promise<void> {
    const { store, runner, imageMap, hostId, metrics, logger } = this.#options;
    const requestId = request.request_id;
    const resolved = resolveLabel(imageMap, request.runs_on);
    let admission: Admission | undefined;
    if (resolved !== undefined) admission = await runner.gate.admit(resolved.label);
    try {
      const { job, created } = await store.recordAccepted(request, {
        hostId,
        label: resolved?.label ?? null,
      });
      if (!created) {
        if (job.hostId === hostId && job.state !== "finished" && job.label === null) {
          // Recorded but its failure never reached the owner (the publish failed): report it now.
          await this.#reportUnknownLabel(request, job);
          return;
        }
        metrics.observeIntake("duplicate");
        logger.info(
          { requestId, state: job.state, host: job.hostId, redelivered: context.redelivered },
          "job request already recorded; not run again",
        );
        return;
      }
      if (resolved === undefined) {
        await this.#reportUnknownLabel(request, job);
        return;
      }
      const cancelled = runner.takeEarlyCancel(requestId);
      if (cancelled !== undefined) {
        metrics.observeIntake("cancelled");
        await reportJobEnd(
          { store, queue: this.#options.queue, logger },
          { requestId, owner: request.owner, mask: request.mask },
          {
            conclusion: "cancelled",
            reason: cancelled,
            lines: [`Job cancelled before it started: ${cancelled}`],
          },
        );
        return;
      }
      runner.enqueue({ request, label: resolved.label, image: resolved.image, attempt: job.attempt });
      metrics.observeIntake("accepted");
      logger.info({ requestId, label: resolved.label, attempt: job.attempt }, "job accepted");
    } finally {
      admission?.release();
    }
  }

  async #reportUnknownLabel(request: JobRequest, job: JobRecord): Promise<void> {
    const { imageMap, logger, metrics } = this.#options;
    const wanted = request.runs_on ?? imageMap.defaultLabel;
    const reason = `no image for label "${wanted}" on this orchestrator (${this.#options.hostId})`;
    metrics.observeIntake("unknown_label");
    logger.warn(
      { requestId: job.requestId, runsOn: request.runs_on },
      "job request for a label this host does not serve",
    );
    await reportJobEnd(
      { store: this.#options.store, queue: this.#options.queue, logger },
      { requestId: job.requestId, owner: request.owner, mask: request.mask },
      {
        conclusion: "failure",
        reason,
        lines: [`${reason}.`, `Labels served here: ${servedLabels(imageMap).join(", ") || "(none)"}.`],
      },
    );
  }
}
