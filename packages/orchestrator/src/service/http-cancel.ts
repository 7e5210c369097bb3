import type { ServiceLogger } from "@solstice/common";
import { type JobQueue, newCancelRequest } from "@solstice/common";
import type { JobStore } from "../persistence/job-store.ts";
import { ownerOf, reportJobEnd } from "./job-end-report.ts";
import type { JobRunner } from "./job-runner.ts";

/**
 * The HTTP API's `POST /v1/jobs/:id/cancel` (the API has checked that the job exists and is not
 * finished): a job of this host is cancelled here; a job of another host (hosts share the
 * database) is cancelled by a cancel request on the queue, which its orchestrator acts on.
 */
export function httpCancel(deps: {
  readonly runner: JobRunner;
  readonly store: JobStore;
  readonly queue: Pick<JobQueue, "publishCancel" | "publishEvent">;
  readonly hostId: string;
  readonly logger: ServiceLogger;
}): (requestId: string, reason: string) => Promise<void> {
  return async (requestId, reason) => {
    const outcome = await deps.runner.cancel(requestId, reason);
    deps.logger.info({ requestId, reason, was: outcome }, "cancel through the HTTP API");
    if (outcome !== "unknown") return;
    const job = await deps.store.getJob(requestId);
    if (job === undefined || job.state === "finished") return;
    if (job.hostId === deps.hostId) {
      // Recorded here but neither running nor waiting (its start-up settling failed): settle it now.
      await reportJobEnd(
        { store: deps.store, queue: deps.queue, logger: deps.logger },
        { requestId, owner: ownerOf(job.owner) },
        { conclusion: "cancelled", reason, lines: [`Job cancelled: ${reason}`] },
      );
      return;
    }
    await deps.queue.publishCancel(
      newCancelRequest({
        request_id: requestId,
        reason,
        requested_by: `solstice-orchestrator@${deps.hostId}`,
      }),
    );
  };
}
