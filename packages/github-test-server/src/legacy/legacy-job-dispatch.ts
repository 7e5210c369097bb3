import type { JobEntry } from "../jobs/job-record.ts";
import type { RunnerRecord } from "../runners/runner-registry.ts";
import type { ServerContext } from "../server-context.ts";
import { renderJobMessage } from "../workflow/job-message-builder.ts";

// The legacy flow hands a job over in the message itself: no acquirejob. The job's token is
// made and its lock taken when the `PipelineAgentJobRequest` message is queued; the message is
// the AgentJobRequestMessage with the job request id, SystemVssConnection pointing at the
// tenant (timelines, logs, plan events), and no results service nor feed WebSocket.

/** The message type of a legacy job request (JobRequestMessageTypes.PipelineAgentJobRequest). */
export const PIPELINE_AGENT_JOB_REQUEST = "PipelineAgentJobRequest";

/** Plan version 8 and later: the worker raises JobCompleted (PlanFeatures.JobCompletedPlanEvent). */
export const JOB_COMPLETED_EVENT_PLAN_VERSION = 8;

let nextRequestId = 1001;

/** The legacy job message of `job`, for `jobToken`. */
export function legacyJobMessage(
  context: ServerContext,
  job: JobEntry,
  requestId: number,
  jobToken: string,
): Record<string, unknown> {
  const message = renderJobMessage(job.prepared, { jobToken, urls: context.urls });
  const plan = message.plan as Record<string, unknown>;
  plan.version = context.settings.legacyPlanVersion;
  const endpoints = (message.resources as { endpoints: Record<string, unknown>[] }).endpoints;
  for (const endpoint of endpoints) {
    if (endpoint.name !== "SystemVssConnection") continue;
    endpoint.url = context.urls.tenant;
    const data = { ...(endpoint.data as Record<string, unknown>) };
    delete data.FeedStreamUrl;
    delete data.ResultsServiceUrl;
    endpoint.data = data;
  }
  const variables = { ...(message.variables as Record<string, unknown>) };
  delete variables["system.github.results_endpoint"];
  return {
    ...message,
    messageType: PIPELINE_AGENT_JOB_REQUEST,
    requestId,
    lockedUntil: job.lockedUntil?.toISOString() ?? "0001-01-01T00:00:00",
    variables,
  };
}

/** Gives `runner` the oldest queued job it can run, if it holds none, as a legacy job request. */
export function assignNextLegacyJob(context: ServerContext, runner: RunnerRecord): JobEntry | undefined {
  if (context.jobs.activeJobOf(runner.id) !== undefined) return undefined;
  const job = context.jobs.nextQueuedFor(runner);
  if (job === undefined) return undefined;
  const now = Date.now();
  const { token } = context.tokens.issue(
    { kind: "job", jobId: job.id },
    context.settings.jobTokenLifetimeMs,
    now,
  );
  const requestId = nextRequestId++;
  job.status = "running";
  job.runnerId = runner.id;
  job.assignedAt = new Date(now);
  job.acquiredAt = new Date(now);
  job.lockedUntil = new Date(now + context.settings.jobLockMs);
  job.token = token;
  job.legacyRequestId = requestId;
  job.message = legacyJobMessage(context, job, requestId, token);
  context.messages.push(runner.id, PIPELINE_AGENT_JOB_REQUEST, JSON.stringify(job.message));
  context.jobs.changed();
  return job;
}
