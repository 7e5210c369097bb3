import { z } from "zod";
import { ActionsServiceError, GitHubResponseError } from "../errors.ts";
import { parseJsonText } from "../http/http-call.ts";

// The run service's bodies (RunServiceHttpClient and its contracts), all camelCase JSON:
//   POST {run_service_url}acquirejob   {jobMessageId, runnerOS, billingOwnerId}  → the job message
//   POST {SystemVssConnection}renewjob  {planId, jobId}                          → {lockedUntil}
//   POST {SystemVssConnection}completejob {planId, jobId, conclusion, outputs, stepResults,
//        annotations, telemetry, environmentUrl, billingOwnerId, infrastructureFailureCategory}
// Errors are JSON `{source: "actions-run-service", statusCode, errorMessage}`: the body's
// statusCode decides (404/409/422 on acquire: skip the message), not the HTTP status.

/** A job's conclusion as completejob sends it (TaskResult, camel-cased by StringEnumConverter). */
export type JobConclusionName =
  | "succeeded"
  | "succeededWithIssues"
  | "failed"
  | "canceled"
  | "skipped"
  | "abandoned";

/** The run service's error body. */
export const RunServiceErrorSchema = z.object({
  source: z.string().optional(),
  statusCode: z.number().optional(),
  errorKind: z.string().optional(),
  errorMessage: z.string().optional(),
});

/** The body's statusCode when the run service sent one (`source: actions-run-service`). */
export function runServiceStatus(text: string): number | undefined {
  const parsed = RunServiceErrorSchema.safeParse(parseJsonText(text));
  if (!parsed.success || parsed.data.source !== "actions-run-service") return undefined;
  return parsed.data.statusCode;
}

/** A failed run-service call as an `ActionsServiceError` carrying the body's statusCode. */
export function runServiceError(
  what: string,
  url: string,
  status: number,
  text: string,
): ActionsServiceError {
  const parsed = RunServiceErrorSchema.safeParse(parseJsonText(text));
  const body = parsed.success && parsed.data.source === "actions-run-service" ? parsed.data : undefined;
  return new ActionsServiceError(what, url, status, text, {
    ...(body?.statusCode === undefined ? {} : { serviceStatus: body.statusCode }),
    ...(body?.errorKind === undefined ? {} : { errorKind: body.errorKind }),
  });
}

/** Body of acquirejob. */
export function acquireJobBody(
  runnerRequestId: string,
  runnerOS: string,
  billingOwnerId?: string,
): Record<string, string> {
  return {
    jobMessageId: runnerRequestId,
    runnerOS,
    ...(billingOwnerId === undefined || billingOwnerId === "" ? {} : { billingOwnerId }),
  };
}

/** What to do after a failed acquirejob. */
export type AcquireFailure = "skip" | "retry-later";

/**
 * 404 (not found), 409 (already acquired by another runner) and 422 (unprocessable) in the
 * body's statusCode: skip the message, it is not this runner's to run. Anything else: log and
 * wait for the next message, as the reference does.
 */
export function acquireFailure(error: unknown): AcquireFailure {
  if (error instanceof ActionsServiceError) {
    const status = error.serviceStatus;
    if (status === 404 || status === 409 || status === 422) return "skip";
  }
  return "retry-later";
}

/** Body of renewjob. */
export function renewJobBody(planId: string, jobId: string): { planId: string; jobId: string } {
  return { planId, jobId };
}

/** Answer of renewjob. */
export const RenewJobResponseSchema = z.object({ lockedUntil: z.string().min(1) }).passthrough();

/** The lock's end in ms, from `lockedUntil` (.NET DateTime text, UTC unless it says otherwise). */
export function parseLockedUntil(text: string): number {
  const trimmed = text.trim();
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) ? trimmed : `${trimmed}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new GitHubResponseError("renewjob", `lockedUntil "${text}" is not a date`);
  return ms;
}

/** Whether a renewal error means the job is gone (404 in the body, or a plain 404): stop renewing. */
export function isJobNotFound(error: unknown): boolean {
  if (!(error instanceof ActionsServiceError)) return false;
  return (error.serviceStatus ?? error.status) === 404;
}

/** An annotation as completejob and step results carry it. */
export interface RunServiceAnnotation {
  readonly level: "notice" | "warning" | "failure";
  readonly message: string;
  readonly title?: string;
  readonly rawDetails?: string;
  readonly path?: string;
  readonly isInfrastructureIssue?: boolean;
  readonly startLine?: number;
  readonly endLine?: number;
  readonly startColumn?: number;
  readonly endColumn?: number;
  readonly stepNumber?: number;
}

/** A step's result in completejob (StepResult: snake_case names). */
export interface RunServiceStepResult {
  readonly external_id: string;
  readonly number: number;
  readonly name: string;
  readonly status: "pending" | "inProgress" | "completed";
  readonly conclusion: JobConclusionName | null;
  readonly started_at?: string;
  readonly completed_at?: string;
  readonly completed_log_lines?: number;
  readonly annotations?: readonly RunServiceAnnotation[];
}

/** What completejob reports. */
export interface CompleteJobInput {
  readonly planId: string;
  readonly jobId: string;
  readonly conclusion: JobConclusionName;
  readonly outputs?: Readonly<Record<string, string>>;
  readonly stepResults?: readonly RunServiceStepResult[];
  readonly annotations?: readonly RunServiceAnnotation[];
  readonly telemetry?: readonly { message: string; type: string }[];
  readonly environmentUrl?: string;
  readonly billingOwnerId?: string;
  readonly infrastructureFailureCategory?: string;
}

/** Body of completejob (outputs as VariableValue `{value, isSecret}`; empty parts left out). */
export function completeJobBody(input: CompleteJobInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    planId: input.planId,
    jobId: input.jobId,
    conclusion: input.conclusion,
  };
  const outputs = Object.entries(input.outputs ?? {});
  if (outputs.length > 0) {
    body["outputs"] = Object.fromEntries(outputs.map(([k, v]) => [k, { value: v, isSecret: false }]));
  }
  if ((input.stepResults?.length ?? 0) > 0) body["stepResults"] = input.stepResults;
  if ((input.annotations?.length ?? 0) > 0) body["annotations"] = input.annotations;
  if ((input.telemetry?.length ?? 0) > 0) body["telemetry"] = input.telemetry;
  if (input.environmentUrl !== undefined) body["environmentUrl"] = input.environmentUrl;
  if (input.billingOwnerId !== undefined && input.billingOwnerId !== "")
    body["billingOwnerId"] = input.billingOwnerId;
  if (input.infrastructureFailureCategory !== undefined) {
    body["infrastructureFailureCategory"] = input.infrastructureFailureCategory;
  }
  return body;
}

/** Whether completejob should stop retrying (401: the job token is no longer valid; 404: the job is gone). */
export function isFinalCompleteError(error: unknown): boolean {
  if (!(error instanceof ActionsServiceError)) return false;
  return error.status === 401 || (error.serviceStatus ?? error.status) === 404;
}
