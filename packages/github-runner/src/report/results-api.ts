import { z } from "zod";
import { ResultsServiceError } from "../errors.ts";
import { parseJsonText } from "../http/http-call.ts";
import type { StepReportState } from "./job-report.ts";

// The results service's Twirp JSON calls (ResultsHttpClient, Contracts.cs: snake_case names),
// under `{results_endpoint}twirp/`, with the job's access token:
//   results.services.receiver.Receiver/GetStepLogsSignedBlobURL
//     {workflow_job_run_backend_id, workflow_run_backend_id, step_backend_id}
//     → {logs_url, blob_storage_type, soft_size_limit}
//   results.services.receiver.Receiver/CreateStepLogsMetadata
//     {workflow_run_backend_id, workflow_job_run_backend_id, step_backend_id, uploaded_at, line_count} → {ok}
//   results.services.receiver.Receiver/GetJobLogsSignedBlobURL
//     {workflow_job_run_backend_id, workflow_run_backend_id} → {logs_url, blob_storage_type}
//   results.services.receiver.Receiver/CreateJobLogsMetadata
//     {workflow_run_backend_id, workflow_job_run_backend_id, uploaded_at, line_count} → {ok}
//   results.services.receiver.Receiver/GetStepSummarySignedBlobURL
//     {workflow_job_run_backend_id, workflow_run_backend_id, step_backend_id}
//     → {summary_url, blob_storage_type, soft_size_limit}
//   results.services.receiver.Receiver/CreateStepSummaryMetadata
//     {workflow_run_backend_id, workflow_job_run_backend_id, step_backend_id, size, uploaded_at} → {ok}
//   github.actions.results.api.v1.WorkflowStepUpdateService/WorkflowStepsUpdate
//     {steps, change_order, workflow_job_run_backend_id, workflow_run_backend_id} → {ok}
// The backend ids are the plan id (run) and the job id (job run); a step's is its id in the
// job message. Metadata and step updates must answer `ok: true`; a signed-URL answer must carry
// its URL (and must not say `ok: false`).

/** The Twirp methods. */
export const ResultsMethods = {
  GetStepLogsSignedBlobURL: "results.services.receiver.Receiver/GetStepLogsSignedBlobURL",
  CreateStepLogsMetadata: "results.services.receiver.Receiver/CreateStepLogsMetadata",
  GetJobLogsSignedBlobURL: "results.services.receiver.Receiver/GetJobLogsSignedBlobURL",
  CreateJobLogsMetadata: "results.services.receiver.Receiver/CreateJobLogsMetadata",
  GetStepSummarySignedBlobURL: "results.services.receiver.Receiver/GetStepSummarySignedBlobURL",
  CreateStepSummaryMetadata: "results.services.receiver.Receiver/CreateStepSummaryMetadata",
  WorkflowStepsUpdate: "github.actions.results.api.v1.WorkflowStepUpdateService/WorkflowStepsUpdate",
} as const;
/** A Twirp method. */
export type ResultsMethod = (typeof ResultsMethods)[keyof typeof ResultsMethods];

/** `{results_endpoint}twirp/{method}`. */
export function twirpUrl(resultsEndpoint: string, method: ResultsMethod): string {
  const base = resultsEndpoint.endsWith("/") ? resultsEndpoint : `${resultsEndpoint}/`;
  return `${base}twirp/${method}`;
}

/** The run and job a call is about. */
export interface ResultsIds {
  readonly planId: string;
  readonly jobId: string;
}

/** Body of GetStepLogsSignedBlobURL. */
export function stepLogsUrlRequest(ids: ResultsIds, stepId: string): Record<string, string> {
  return {
    workflow_job_run_backend_id: ids.jobId,
    workflow_run_backend_id: ids.planId,
    step_backend_id: stepId,
  };
}

/** Body of GetStepSummarySignedBlobURL (the same ids as a step's log). */
export const stepSummaryUrlRequest = stepLogsUrlRequest;

/** Body of CreateStepSummaryMetadata. */
export function stepSummaryMetadataRequest(
  ids: ResultsIds,
  stepId: string,
  size: number,
  uploadedAt: Date,
): Record<string, unknown> {
  return {
    workflow_run_backend_id: ids.planId,
    workflow_job_run_backend_id: ids.jobId,
    step_backend_id: stepId,
    size,
    uploaded_at: uploadedAt.toISOString(),
  };
}

/** Body of GetJobLogsSignedBlobURL. */
export function jobLogsUrlRequest(ids: ResultsIds): Record<string, string> {
  return { workflow_job_run_backend_id: ids.jobId, workflow_run_backend_id: ids.planId };
}

/** Body of CreateStepLogsMetadata. */
export function stepLogsMetadataRequest(
  ids: ResultsIds,
  stepId: string,
  lineCount: number,
  uploadedAt: Date,
): Record<string, unknown> {
  return {
    workflow_run_backend_id: ids.planId,
    workflow_job_run_backend_id: ids.jobId,
    step_backend_id: stepId,
    uploaded_at: uploadedAt.toISOString(),
    line_count: lineCount,
  };
}

/** Body of CreateJobLogsMetadata. */
export function jobLogsMetadataRequest(
  ids: ResultsIds,
  lineCount: number,
  uploadedAt: Date,
): Record<string, unknown> {
  return {
    workflow_run_backend_id: ids.planId,
    workflow_job_run_backend_id: ids.jobId,
    uploaded_at: uploadedAt.toISOString(),
    line_count: lineCount,
  };
}

/** The results API's own status numbers (Status enum). */
export const StepStatusNumbers = { unknown: 0, inProgress: 3, pending: 5, completed: 6 } as const;
/** The results API's own conclusion numbers (Conclusion enum). */
export const StepConclusionNumbers = {
  unknown: 0,
  success: 2,
  failure: 3,
  cancelled: 4,
  skipped: 7,
} as const;

function conclusionNumber(conclusion: StepReportState["conclusion"]): number {
  switch (conclusion) {
    case "succeeded":
    case "succeededWithIssues":
      return StepConclusionNumbers.success;
    case "failed":
      return StepConclusionNumbers.failure;
    case "canceled":
      return StepConclusionNumbers.cancelled;
    case "skipped":
      return StepConclusionNumbers.skipped;
    default:
      return StepConclusionNumbers.unknown;
  }
}

/** Body of WorkflowStepsUpdate (times as ISO 8601 with milliseconds; absent ones empty, as .NET's null). */
export function stepsUpdateRequest(
  ids: ResultsIds,
  changeOrder: number,
  steps: readonly StepReportState[],
): Record<string, unknown> {
  return {
    steps: steps.map((s) => ({
      external_id: s.externalId,
      number: s.number,
      name: s.name,
      status: StepStatusNumbers[s.status],
      started_at: s.startedAt?.toISOString() ?? null,
      completed_at: s.completedAt?.toISOString() ?? null,
      conclusion: conclusionNumber(s.conclusion),
    })),
    change_order: changeOrder,
    workflow_job_run_backend_id: ids.jobId,
    workflow_run_backend_id: ids.planId,
  };
}

/** A signed-URL answer. */
export const SignedLogsUrlSchema = z.object({
  logs_url: z.string().min(1),
  blob_storage_type: z.string().optional(),
  soft_size_limit: z.union([z.number(), z.string()]).optional(),
  ok: z.boolean().optional(),
});
/** @see SignedLogsUrlSchema */
export type SignedLogsUrl = z.infer<typeof SignedLogsUrlSchema>;

/** The answer of a metadata or steps call. */
export const OkResponseSchema = z.object({ ok: z.literal(true) });

/** Parses a signed-URL answer or throws `ResultsServiceError`. */
export function parseSignedUrl(method: ResultsMethod, text: string): SignedLogsUrl {
  const parsed = SignedLogsUrlSchema.safeParse(parseJsonText(text));
  if (!parsed.success)
    throw new ResultsServiceError(method, `no logs_url in the answer: ${text.slice(0, 200)}`);
  if (parsed.data.ok === false) throw new ResultsServiceError(method, "answered ok: false");
  return parsed.data;
}

/** A step summary's signed-URL answer. */
export const SignedSummaryUrlSchema = z.object({
  summary_url: z.string().min(1),
  blob_storage_type: z.string().optional(),
  soft_size_limit: z.union([z.number(), z.string()]).optional(),
});
/** @see SignedSummaryUrlSchema */
export type SignedSummaryUrl = z.infer<typeof SignedSummaryUrlSchema>;

/** Parses a summary signed-URL answer or throws `ResultsServiceError`. */
export function parseSignedSummaryUrl(method: ResultsMethod, text: string): SignedSummaryUrl {
  const parsed = SignedSummaryUrlSchema.safeParse(parseJsonText(text));
  if (!parsed.success)
    throw new ResultsServiceError(method, `no summary_url in the answer: ${text.slice(0, 200)}`);
  return parsed.data;
}

/** Checks an `{ok: true}` answer or throws `ResultsServiceError`. */
export function checkOk(method: ResultsMethod, text: string): void {
  if (!OkResponseSchema.safeParse(parseJsonText(text)).success) {
    throw new ResultsServiceError(method, `did not answer ok: true: ${text.slice(0, 200)}`);
  }
}

/** The Azure blob storage type value. */
export const AZURE_BLOB_STORAGE = "BLOB_STORAGE_TYPE_AZURE";
