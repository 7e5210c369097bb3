import type { JobQueue, JobRequest, MessageContext, ServiceLogger, Subscription } from "@solstice/common";
import { type ImageMap, resolveLabel, servedLabels } from "@solstice/common";
import { JobRequestRefusedError, OrchestratorStoppingError } from "../errors.ts";
import type { OrchestratorMetrics } from "../http/orchestrator-metrics.ts";
import type { JobRecord } from "../persistence/job-records.ts";
import type { JobStore } from "../persistence/job-store.ts";
import type { Admission } from "./admission-gate.ts";
import { formatIssues } from "./intake-format-checks.ts";
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits, limitIssues } from "./intake-limits.ts";
import { reportJobEnd } from "./job-end-report.ts";
import type { JobRunner } from "./job-runner.ts";
import { reportRefusal } from "./refusal-report.ts";

/** Settings of a {@link JobIntake}. */
export interface JobIntakeOptions {
  readonly queue: JobQueue;
  readonly store: JobStore;
  readonly runner: JobRunner;
  readonly imageMap: ImageMap;
  readonly hostId: string;
  /** Unacknowledged requests at once: the host's capacity (MAX_CONCURRENCY / AMQP_PREFETCH). */
  readonly prefetch: number;
  /**
   * A label's capacity here (CAPACITY_MAP), the prefetch of its queue (at most `prefetch`);
   * default: `prefetch` for every label.
   */
  readonly labelCapacity?: ((label: string) => number) | undefined;
  readonly metrics: OrchestratorMetrics;
  readonly logger: ServiceLogger;
  /** What a request may ask (steps, script and message size, env entries); default DEFAULT_INTAKE_LIMITS. */
  readonly limits?: IntakeLimits | undefined;
}

/**
 * Takes job requests from the queues of the labels this host serves. For each delivery:
 *
 * 0. checks it against the host's limits and what a VM could run (intake-limits.ts,
 *    intake-format-checks.ts): a request that fails is refused — its owner is told, nothing is
 *    recorded or booted, and it is dead-lettered with the fields and limits as the reason
 *    (`JobRequestRefusedError`); a message over MAX_JOB_REQUEST_BYTES is refused by the queue
 *    before it is even decoded;
 * 1. its label is the one of the queue it came from (the route resolved aliases and the default);
 * 2. waits at the admission gate until this host may take it (back-pressure);
 * 3. records it `accepted` (idempotent by request id) — the delivery is acknowledged only after
 *    this, when the handler returns;
 * 4. a request whose id is already recorded (a redelivery) is not run again;
 *    a label this host does not serve (only on a direct call: a routed request's label is
 *    always served) is reported failed with that reason (events and store);
 *    a job whose cancel arrived first is reported cancelled;
 *    anything else is enqueued in the scheduler.
 *
 * Requests that do not parse never reach here: the queue dead-letters them with the reason.
 * Requests for labels no host serves never reach here either: the router (job-router.ts)
 * dead-letters them.
 */
export class JobIntake {
  readonly #options: JobIntakeOptions;
  #subscriptions: Subscription[] = [];

  constructor(options: JobIntakeOptions) {
    this.#options = options;
  }

  /**
   * Consumes the queue of every label the image map serves (declaring it and binding the
   * label's and its aliases' routing keys), each with prefetch = the label's capacity here, so
   * a busy label never holds back another.
   */
  async start(): Promise<void> {
    const { queue, imageMap, prefetch, labelCapacity } = this.#options;
    const maxMessageBytes = (this.#options.limits ?? DEFAULT_INTAKE_LIMITS).maxRequestBytes;
    for (const label of imageMap.images.keys()) {
      const aliases = [...imageMap.aliases].filter(([, target]) => target === label).map(([alias]) => alias);
      const subscription = await queue.consumeLabelJobs(
        label,
        aliases,
        (request, context) => this.handle(request, context, label),
        { prefetch: Math.max(1, Math.min(prefetch, labelCapacity?.(label) ?? prefetch)), maxMessageBytes },
      );
      this.#subscriptions.push(subscription);
    }
  }

  /** The label queues consumed, for logs. */
  get queues(): string[] {
    return this.#subscriptions.map((subscription) => subscription.queue);
  }

  /** Stops consuming: deliveries waiting at the gate go back to the queue unacknowledged. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#options.runner.gate.close(new OrchestratorStoppingError());
    const subscriptions = this.#subscriptions.splice(0);
    await Promise.all(subscriptions.map((subscription) => subscription.cancel({ timeoutMs })));
  }

  /**
   * Handles one job request; resolves to acknowledge it. `routeLabel` is the label of the queue
   * it came from (the route decided it, aliases included); without it (a direct call), the
   * request's `runs_on` is resolved against this host's image map.
   */
  async handle(
    request: JobRequest,
    context: Pick<MessageContext, "redelivered" | "attempt">,
    routeLabel?: string,
  ): Promise<void> {
    const { store, runner, imageMap, hostId, metrics, logger } = this.#options;
    const requestId = request.request_id;
    const issues = [
      ...formatIssues(request),
      ...limitIssues(request, this.#options.limits ?? DEFAULT_INTAKE_LIMITS),
    ];
    if (issues.length > 0 && (await store.getJob(requestId)) === undefined) {
      await this.#refuse(request, new JobRequestRefusedError(requestId, issues), routeLabel);
    }
    const routed = routeLabel === undefined ? undefined : imageMap.images.get(routeLabel);
    const resolved =
      routeLabel !== undefined && routed !== undefined
        ? { label: routeLabel, image: routed }
        : resolveLabel(imageMap, request.runs_on);
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

  /** Tells the owner, then throws `refusal`: the queue dead-letters the request with its message. */
  async #refuse(request: JobRequest, refusal: JobRequestRefusedError, label?: string): Promise<never> {
    const { queue, metrics, logger } = this.#options;
    metrics.observeIntake("refused");
    // Never recorded, so the store's finish hook never sees it: counted here.
    metrics.observeFinished({ label: label ?? null, conclusion: "failure" });
    logger.warn({ requestId: request.request_id, issues: refusal.issues }, "job request refused");
    await reportRefusal({ queue, logger }, request, refusal.reason);
    throw refusal;
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
