import {
  type ImageMap,
  type JobQueue,
  resolveRouteLabel,
  type ServiceLogger,
  type Subscription,
} from "@solstice/common";
import type { OrchestratorMetrics } from "../http/orchestrator-metrics.ts";
import { reportRefusal } from "./refusal-report.ts";

/** Settings of a {@link JobRouter}. */
export interface JobRouterOptions {
  readonly queue: JobQueue;
  /** Its aliases and default label resolve a request's label (the same resolver as publishers'). */
  readonly imageMap: ImageMap;
  readonly hostId: string;
  readonly logger: ServiceLogger;
  /** Requests being moved at once. */
  readonly prefetch: number;
  /** A larger request is dead-lettered unread (the intake's own limit). */
  readonly maxMessageBytes: number;
  /** Counts the requests it refuses as finished jobs (label unknown). */
  readonly metrics?: Pick<OrchestratorMetrics, "observeFinished"> | undefined;
}

/**
 * The compatibility router every orchestrator runs: it consumes the original's queue
 * (`solstice.jobs.v1`, where requests published the original's way arrive, and those whose label
 * route had no queue) as a competing consumer and moves each request to its label route,
 * acknowledging it only once the broker confirmed the copy (see `JobQueue.routeJobs`). A request
 * whose label no orchestrator serves is reported to its owner as refused — the runner reports
 * that to the forge at once, as for any refused request — and dead-lettered with the reason
 * `no orchestrator serves label X`.
 *
 * @example
 *   const router = new JobRouter({ queue, imageMap, hostId, logger, prefetch: 8, maxMessageBytes });
 *   await router.start();
 */
export class JobRouter {
  readonly #options: JobRouterOptions;
  #subscription: Subscription | undefined;

  constructor(options: JobRouterOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const { queue, imageMap, logger, hostId } = this.#options;
    this.#subscription = await queue.routeJobs(
      {
        label: (request) => resolveRouteLabel(request.runs_on, imageMap),
        unserved: async (request, error) => {
          logger.warn(
            { requestId: request.request_id, runsOn: request.runs_on, label: error.label, hostId },
            "job request for a label no orchestrator serves: dead-lettered",
          );
          this.#options.metrics?.observeFinished({ label: null, conclusion: "failure" });
          await reportRefusal({ queue, logger }, request, error.message);
        },
      },
      { prefetch: this.#options.prefetch, maxMessageBytes: this.#options.maxMessageBytes },
    );
  }

  /** Stops routing; requests being moved finish (up to `timeoutMs`), the rest stay queued. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    await subscription?.cancel({ timeoutMs });
  }
}
