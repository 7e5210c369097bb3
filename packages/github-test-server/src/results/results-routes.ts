import { z } from "zod";
import { bearerToken } from "../auth/authorization-header.ts";
import type { Endpoint } from "../http/endpoints.ts";
import { HttpError, parseJsonBody, readBody, sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import type { JobEntry } from "../jobs/job-record.ts";
import type { ServerContext } from "../server-context.ts";
import { applyStepUpdates, CONCLUSION_NAMES, STATUS_NAMES } from "./step-updates.ts";

// The results service at `system.github.results_endpoint`: Twirp JSON under `twirp/`, with the
// job's access token. It hands out signed blob URLs for logs and summaries, records log metadata
// and step updates, and answers `{"ok": true}` (with the call's own fields) as the runner checks.

/** A Twirp error (`{code, msg}`) with its HTTP status. */
function twirpError(
  status: number,
  code: string,
  msg: string,
  headers: Record<string, string> = {},
): HttpError {
  return new HttpError(status, { code, msg }, headers);
}

const invalidArgument = (problem: string): HttpError => twirpError(400, "invalid_argument", problem);

/** protojson's int64: a number or a decimal string. */
const Int64 = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
/** protojson's Timestamp: RFC 3339, or null / absent. */
const Timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/, "expected an RFC 3339 timestamp")
  .nullable()
  .optional();

const JobIds = { workflow_job_run_backend_id: z.string(), workflow_run_backend_id: z.string() };
const StepIds = { ...JobIds, step_backend_id: z.string() };

/** An enum as protojson reads it: its number, or its name. */
function protoEnum(names: Readonly<Record<string, number>>, what: string) {
  const numbers = new Set(Object.values(names));
  return z.union([z.number().int(), z.string()]).transform((value, ctx) => {
    const number = typeof value === "number" ? value : names[value];
    if (number === undefined || !numbers.has(number)) {
      ctx.addIssue({
        code: "custom",
        message: `${JSON.stringify(value)} is not a ${what} (numbers ${[...numbers].join(", ")} or their names)`,
      });
      return z.NEVER;
    }
    return number;
  });
}

const StepsUpdate = z.object({
  ...JobIds,
  change_order: Int64,
  steps: z.array(
    z.object({
      external_id: z.string().min(1),
      number: z.number().int(),
      name: z.string().nullable().optional(),
      status: protoEnum(STATUS_NAMES, "Status"),
      conclusion: protoEnum(CONCLUSION_NAMES, "Conclusion"),
      started_at: Timestamp,
      completed_at: Timestamp,
    }),
  ),
});

/** The results service's routes. */
export function resultsRoutes(context: ServerContext): Route[] {
  const base = `${new URL(context.urls.results).pathname}twirp/`;
  const receiver = `${base}results.services.receiver.Receiver/`;

  /** The job of the request's job token, which must be the job the ids name. */
  const jobFor = (
    ctx: RouteContext,
    ids: { workflow_job_run_backend_id: string; workflow_run_backend_id: string },
  ): JobEntry => {
    const check = context.tokens.check(bearerToken(ctx.req.headers.authorization));
    if (!check.ok) {
      throw twirpError(401, "unauthenticated", `invalid token: ${check.reason}`, {
        "www-authenticate": 'Bearer error="invalid_token"',
      });
    }
    if (check.subject.kind !== "job")
      throw twirpError(403, "permission_denied", "the results service needs the job's access token");
    const job = context.jobs.get(check.subject.jobId);
    if (
      job === undefined ||
      ids.workflow_job_run_backend_id.toLowerCase() !== job.id ||
      ids.workflow_run_backend_id.toLowerCase() !== job.planId
    ) {
      throw twirpError(403, "permission_denied", "the token is not for this workflow job run");
    }
    return job;
  };

  /** A Twirp method: JSON in, JSON out. */
  const method = <S extends z.ZodType>(
    path: string,
    endpoint: Endpoint,
    schema: S,
    handle: (ctx: RouteContext, body: z.infer<S>) => Record<string, unknown>,
  ): Route => ({
    method: "POST",
    pattern: new RegExp(`^${path}$`),
    endpoint,
    handler: async (ctx) => {
      const text = (await readBody(ctx.req)).toString("utf8");
      if (!(ctx.req.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
        throw twirpError(404, "bad_route", "unexpected Content-Type: send application/json (Twirp JSON)");
      }
      const body = parseJsonBody(text, schema, invalidArgument);
      sendJson(ctx.res, 200, { ok: true, ...handle(ctx, body) });
    },
  });

  const blobKind = "BLOB_STORAGE_TYPE_AZURE";
  const softLimit = 8 * 1024 * 1024;

  return [
    method(
      `${receiver}GetStepLogsSignedBlobURL`,
      "GetStepLogsSignedBlobURL",
      z.object(StepIds),
      (ctx, body) => {
        const job = jobFor(ctx, body);
        return {
          logs_url: context.blobs.urlFor(job.id, "step-log", body.step_backend_id),
          blob_storage_type: blobKind,
          soft_size_limit: softLimit,
        };
      },
    ),
    method(
      `${receiver}CreateStepLogsMetadata`,
      "CreateStepLogsMetadata",
      z.object({ ...StepIds, uploaded_at: z.string().optional(), line_count: Int64 }),
      (ctx, body) => {
        const job = jobFor(ctx, body);
        job.stepLogMetadata.set(body.step_backend_id.toLowerCase(), {
          lineCount: body.line_count,
          uploadedAt: body.uploaded_at ?? "",
        });
        context.jobs.changed();
        return {};
      },
    ),
    method(`${receiver}GetJobLogsSignedBlobURL`, "GetJobLogsSignedBlobURL", z.object(JobIds), (ctx, body) => {
      const job = jobFor(ctx, body);
      return { logs_url: context.blobs.urlFor(job.id, "job-log"), blob_storage_type: blobKind };
    }),
    method(
      `${receiver}CreateJobLogsMetadata`,
      "CreateJobLogsMetadata",
      z.object({ ...JobIds, uploaded_at: z.string().optional(), line_count: Int64 }),
      (ctx, body) => {
        const job = jobFor(ctx, body);
        job.jobLogMetadata = { lineCount: body.line_count, uploadedAt: body.uploaded_at ?? "" };
        context.jobs.changed();
        return {};
      },
    ),
    method(
      `${receiver}GetStepSummarySignedBlobURL`,
      "GetStepSummarySignedBlobURL",
      z.object(StepIds),
      (ctx, body) => {
        const job = jobFor(ctx, body);
        return {
          summary_url: context.blobs.urlFor(job.id, "step-summary", body.step_backend_id),
          soft_size_limit: 1024 * 1024,
          blob_storage_type: blobKind,
        };
      },
    ),
    method(
      `${receiver}CreateStepSummaryMetadata`,
      "CreateStepSummaryMetadata",
      z.object({ ...StepIds, size: Int64, uploaded_at: z.string().optional() }),
      (ctx, body) => {
        jobFor(ctx, body);
        return {};
      },
    ),
    method(
      `${receiver}GetJobDiagLogsSignedBlobURL`,
      "GetJobDiagLogsSignedBlobURL",
      z.object(JobIds),
      (ctx, body) => {
        const job = jobFor(ctx, body);
        return { diag_logs_url: context.blobs.urlFor(job.id, "diag-log"), blob_storage_type: blobKind };
      },
    ),
    method(
      `${base}github.actions.results.api.v1.WorkflowStepUpdateService/WorkflowStepsUpdate`,
      "WorkflowStepsUpdate",
      StepsUpdate,
      (ctx, body) => {
        const job = jobFor(ctx, body);
        applyStepUpdates(job, body.change_order, body.steps, new Date());
        context.jobs.changed();
        return {};
      },
    ),
  ];
}
