import { z } from "zod";
import { requireBearer, requireRunnerBearer } from "../auth/bearer-auth.ts";
import { HttpError, parseJsonBody, readBody, sendEmpty, sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import type { JobEntry } from "../jobs/job-record.ts";
import { deleteRunner } from "../runners/runner-lifecycle.ts";
import type { ServerContext } from "../server-context.ts";
import { renderJobMessage } from "../workflow/job-message-builder.ts";

// The run service at `run_service_url` (and the job message's SystemVssConnection url):
// acquirejob with the runner's token hands out the job message; renewjob and completejob take
// the JOB's token. Errors carry `{source: "actions-run-service", statusCode, errorMessage}`:
// the runner decides from `statusCode` (404, 409, 422 on acquire: skip the message).

export function runServiceError(status: number, errorMessage: string): HttpError {
  return new HttpError(status, { source: "actions-run-service", statusCode: status, errorMessage });
}

const invalid = (problem: string): HttpError => runServiceError(400, problem);

const Guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "expected a GUID");

/** TaskResult as the runner's JSON writes it: camelCase names, never numbers. */
const Conclusion = z.enum(["succeeded", "succeededWithIssues", "failed", "canceled", "skipped", "abandoned"]);

const AcquireBody = z.object({
  jobMessageId: z.string().min(1),
  runnerOS: z.string().optional(),
  billingOwnerId: z.string().optional(),
});

const RenewBody = z.object({ planId: Guid, jobId: Guid });

const StepResult = z.looseObject({
  external_id: Guid.optional(),
  number: z.number().int().optional(),
  name: z.string().optional(),
  status: z.enum(["pending", "inProgress", "completed", "delayed"]).nullable().optional(),
  conclusion: Conclusion.nullable().optional(),
  started_at: z.string().optional(),
  completed_at: z.string().optional(),
});

const CompleteBody = z.object({
  planId: Guid,
  jobId: Guid,
  conclusion: Conclusion,
  outputs: z
    .record(
      z.string(),
      z.object({ value: z.string().nullable().optional(), isSecret: z.boolean().optional() }),
    )
    .optional(),
  stepResults: z.array(StepResult).optional(),
  annotations: z
    .array(z.looseObject({ level: z.enum(["unknown", "notice", "warning", "failure"]).optional() }))
    .optional(),
  telemetry: z.array(z.unknown()).optional(),
  environmentUrl: z.string().optional(),
  billingOwnerId: z.string().optional(),
  infrastructureFailureCategory: z.string().optional(),
});

/** The run service's routes. */
export function runServiceRoutes(context: ServerContext): Route[] {
  const base = new URL(context.urls.runService).pathname;

  /** The job of the request's job token; the runner's own token is refused. */
  const jobOfToken = (ctx: RouteContext, call: string): JobEntry => {
    const subject = requireBearer(ctx, context);
    if (subject.kind !== "job") {
      throw runServiceError(
        403,
        `${call} needs the job's access token (SystemVssConnection AccessToken), not the runner's token`,
      );
    }
    const job = context.jobs.get(subject.jobId);
    if (job === undefined) throw runServiceError(404, `job ${subject.jobId} not found`);
    return job;
  };

  const checkIds = (job: JobEntry, body: { planId: string; jobId: string }): void => {
    if (body.jobId.toLowerCase() !== job.id || body.planId.toLowerCase() !== job.planId) {
      throw runServiceError(404, `job ${body.jobId} of plan ${body.planId} not found for this token`);
    }
  };

  return [
    {
      method: "POST",
      pattern: new RegExp(`^${base}acquirejob$`),
      endpoint: "acquirejob",
      handler: async (ctx) => {
        const runnerId = requireRunnerBearer(ctx, context);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), AcquireBody, invalid);
        const job = context.jobs.byRunnerRequestId(body.jobMessageId);
        if (job === undefined || context.runners.get(runnerId) === undefined) {
          throw runServiceError(404, `job message ${body.jobMessageId} not found`);
        }
        if (job.runnerId !== runnerId)
          throw runServiceError(409, `job ${job.id} was acquired by another runner`);
        if (job.status === "completed" || job.status === "abandoned") {
          throw runServiceError(
            422,
            `job ${job.id} is ${job.cancelRequestedAt === undefined ? job.status : "canceled"}`,
          );
        }
        // Acquiring again (a retry after a lost answer) gives the same message.
        if (job.acquiredAt === undefined) {
          const now = Date.now();
          const { token } = context.tokens.issue(
            { kind: "job", jobId: job.id },
            context.settings.jobTokenLifetimeMs,
            now,
          );
          job.token = token;
          job.message = renderJobMessage(job.prepared, { jobToken: token, urls: context.urls });
          job.acquiredAt = new Date(now);
          job.lockedUntil = new Date(now + context.settings.jobLockMs);
          job.status = "running";
        }
        job.acquireCount++;
        context.jobs.changed();
        sendJson(ctx.res, 200, job.message);
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^${base}renewjob$`),
      endpoint: "renewjob",
      handler: async (ctx) => {
        const job = jobOfToken(ctx, "renewjob");
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), RenewBody, invalid);
        checkIds(job, body);
        // 404 tells the runner to stop renewing: the job is over (done, or its lock was lost).
        if (job.status !== "running") throw runServiceError(404, `job ${job.id} is ${job.status}`);
        const now = Date.now();
        job.lockedUntil = new Date(now + context.settings.jobLockMs);
        job.renewals.push(new Date(now));
        context.jobs.changed();
        sendJson(ctx.res, 200, { lockedUntil: job.lockedUntil.toISOString() });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^${base}completejob$`),
      endpoint: "completejob",
      handler: async (ctx) => {
        const job = jobOfToken(ctx, "completejob");
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), CompleteBody, invalid);
        checkIds(job, body);
        if (job.status === "abandoned")
          throw runServiceError(404, `job ${job.id} was abandoned: its lock expired`);
        job.completeCount++;
        if (job.completion === undefined) {
          job.completion = {
            conclusion: body.conclusion,
            outputs: body.outputs ?? {},
            stepResults: body.stepResults ?? [],
            annotations: body.annotations ?? [],
            telemetry: body.telemetry ?? [],
            environmentUrl: body.environmentUrl,
            receivedAt: new Date(),
          };
          job.status = "completed";
          job.result = job.cancelRequestedAt === undefined ? body.conclusion : "canceled";
          job.completedAt = new Date();
          const runner = job.runnerId === undefined ? undefined : context.runners.get(job.runnerId);
          // An ephemeral (and so a JIT) runner is removed once its job is done.
          if (runner?.ephemeral === true) deleteRunner(context, runner.id);
        }
        context.jobs.changed();
        sendEmpty(ctx.res, 200);
      },
    },
  ];
}
