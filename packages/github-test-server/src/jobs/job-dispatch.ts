import type { RunnerRecord } from "../runners/runner-registry.ts";
import type { ServerContext } from "../server-context.ts";
import type { JobEntry } from "./job-record.ts";

// Handing jobs to runners and taking them back: a queued job goes to a polling runner as a
// RunnerJobRequest message; a cancelled job it holds gets a JobCancellation message.

/** The message types the broker sends (and the runner must know). */
export const MESSAGE_TYPES = [
  "RunnerJobRequest",
  "JobCancellation",
  "ForceTokenRefresh",
  "RunnerRefresh",
  "RunnerRefreshConfig",
  "HostedRunnerShutdown",
  "BrokerMigration",
] as const;

/** The timeout of a JobCancellation, as .NET writes a TimeSpan. */
const CANCEL_TIMEOUT = "00:05:00";

/** Gives `runner` the oldest queued job it can run, if it holds none; returns the job given. */
export function assignNextJob(context: ServerContext, runner: RunnerRecord): JobEntry | undefined {
  if (context.jobs.activeJobOf(runner.id) !== undefined) return undefined;
  const job = context.jobs.nextQueuedFor(runner);
  if (job === undefined) return undefined;
  job.status = "assigned";
  job.runnerId = runner.id;
  job.assignedAt = new Date();
  const body = {
    runner_request_id: job.runnerRequestId,
    should_acknowledge: context.settings.shouldAcknowledge,
    run_service_url: context.urls.runService,
    billing_owner_id: job.prepared.billingOwnerId,
  };
  context.messages.push(runner.id, "RunnerJobRequest", JSON.stringify(body), {
    runnerRequestId: job.runnerRequestId,
    shouldAcknowledge: context.settings.shouldAcknowledge,
  });
  context.jobs.changed();
  return job;
}

/**
 * Cancels a job as the cancel button does: a queued one is never handed out; one a runner holds
 * gets a JobCancellation message (its completion is then recorded as `canceled` whatever the
 * runner reports). A finished job is left alone. Returns whether anything changed.
 */
export function cancelJob(context: ServerContext, job: JobEntry): boolean {
  if (job.status === "completed" || job.status === "abandoned" || job.cancelRequestedAt !== undefined)
    return false;
  job.cancelRequestedAt = new Date();
  if (job.status === "queued" || (job.status === "assigned" && job.acquiredAt === undefined)) {
    job.status = "completed";
    job.result = "canceled";
    job.completedAt = new Date();
  }
  if (job.runnerId !== undefined && job.acquiredAt !== undefined) {
    context.messages.push(
      job.runnerId,
      "JobCancellation",
      JSON.stringify({ jobId: job.id, timeout: CANCEL_TIMEOUT }),
    );
  }
  context.jobs.changed();
  return true;
}
