import type { PreparedJob } from "../workflow/job-message-builder.ts";

// A job as the server keeps it, from addJob to completion: who holds it, its lock, what the
// runner reported (steps, logs, live lines, completion).

/** Where a job is in its life. */
export type JobStatus = "queued" | "assigned" | "running" | "completed" | "abandoned";

/** A job result (TaskResult), camelCase as the run service takes it. */
export type JobConclusion =
  | "succeeded"
  | "succeededWithIssues"
  | "failed"
  | "canceled"
  | "skipped"
  | "abandoned";

/** A step as WorkflowStepsUpdate last reported it (status/conclusion: the Results API's enum numbers). */
export interface StepUpdateRecord {
  readonly externalId: string;
  readonly number: number;
  readonly name: string;
  readonly status: number;
  readonly conclusion: number;
  readonly startedAt: string | undefined;
  readonly completedAt: string | undefined;
  /** The `change_order` of the update that set it. */
  readonly changeOrder: number;
  readonly updatedAt: Date;
}

/** A line that arrived on the live feed. */
export interface FeedLineRecord {
  /** The step (timeline record) id the frame named. */
  readonly stepId: string;
  /** The frame's `startLine` plus the line's index, when the frame had one. */
  readonly lineNumber: number | undefined;
  readonly text: string;
  /** When the frame arrived, epoch milliseconds with sub-millisecond precision. */
  readonly receivedAt: number;
}

/** A frame the feed could not read. */
export interface FeedRejection {
  readonly at: Date;
  readonly reason: string;
  readonly frame: string;
}

/** The completejob call as the runner sent it. */
export interface CompletionRecord {
  readonly conclusion: JobConclusion;
  readonly outputs: Readonly<
    Record<string, { readonly value?: string | null | undefined; readonly isSecret?: boolean | undefined }>
  >;
  readonly stepResults: readonly unknown[];
  readonly annotations: readonly unknown[];
  readonly telemetry: readonly unknown[];
  readonly environmentUrl: string | undefined;
  readonly receivedAt: Date;
}

/** The log metadata a Create*LogsMetadata call reported. */
export interface LogMetadataRecord {
  readonly lineCount: number;
  readonly uploadedAt: string;
}

/** Legacy flow: a timeline record as the runner's PATCHes left it (fields merged, last wins). */
export interface TimelineRecordState {
  readonly id: string;
  readonly parentId: string | undefined;
  readonly type: string | undefined;
  readonly name: string | undefined;
  readonly refName: string | undefined;
  readonly order: number | undefined;
  readonly state: "pending" | "inProgress" | "completed" | undefined;
  readonly result: JobConclusion | undefined;
  readonly startTime: string | undefined;
  readonly finishTime: string | undefined;
  /** The log (legacy log id) the record points at. */
  readonly logId: number | undefined;
  readonly errorCount: number | undefined;
  readonly warningCount: number | undefined;
  readonly issues: readonly unknown[];
  /** How many PATCHes named it. */
  readonly updates: number;
}

/** Legacy flow: one PATCH of timeline records: which records, in the order sent. */
export interface TimelineUpdateRecord {
  readonly at: Date;
  readonly records: readonly { readonly id: string; readonly state: string | undefined }[];
}

/** Legacy flow: a log made by create-log and filled by append-log. */
export interface LegacyLogRecord {
  readonly id: number;
  readonly path: string;
  readonly content: string;
  readonly appends: number;
}

/** Legacy flow: a plan event the runner raised (`JobCompleted`). */
export interface PlanEventRecord {
  readonly name: string;
  readonly jobId: string | undefined;
  readonly requestId: number | undefined;
  readonly result: string | undefined;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly receivedAt: Date;
}

/** A job, live: it changes as runners call. */
export interface JobRecord {
  /** The job id (a GUID): `jobId` in the message, renew and complete. */
  readonly id: string;
  readonly planId: string;
  /** The `runner_request_id` of its RunnerJobRequest message (acquirejob's `jobMessageId`). */
  readonly runnerRequestId: string;
  readonly repository: string;
  readonly workflowFile: string;
  /** The job's key in the workflow (`build`). */
  readonly jobKey: string;
  readonly displayName: string;
  readonly matrix: Readonly<Record<string, unknown>> | undefined;
  readonly runsOn: readonly string[];
  readonly status: JobStatus;
  /** The final result: the runner's conclusion, `canceled` after cancelJob, `abandoned` on a lost lock. */
  readonly result: JobConclusion | undefined;
  readonly runnerId: number | undefined;
  readonly createdAt: Date;
  readonly assignedAt: Date | undefined;
  readonly acquiredAt: Date | undefined;
  readonly acquireCount: number;
  readonly lockedUntil: Date | undefined;
  readonly renewals: readonly Date[];
  readonly cancelRequestedAt: Date | undefined;
  readonly completedAt: Date | undefined;
  readonly completion: CompletionRecord | undefined;
  readonly completeCount: number;
  /** The job's access token (SystemVssConnection AccessToken), once acquired. */
  readonly token: string | undefined;
  /** The AgentJobRequestMessage acquirejob answered, once acquired. */
  readonly message: Readonly<Record<string, unknown>> | undefined;
  /** Steps by WorkflowStepsUpdate, in `number` order. */
  readonly steps: readonly StepUpdateRecord[];
  /** WorkflowStepsUpdate `change_order`s, in arrival order. */
  readonly changeOrders: readonly number[];
  readonly feed: readonly FeedLineRecord[];
  readonly feedRejected: readonly FeedRejection[];
  readonly stepLogMetadata: ReadonlyMap<string, LogMetadataRecord>;
  readonly jobLogMetadata: LogMetadataRecord | undefined;
  /** Legacy flow: the job request id (`requestId` of the message, the jobrequests resource). */
  readonly legacyRequestId: number | undefined;
  /** Legacy flow: the timeline records by id (the job's own record has the job id). */
  readonly timeline: ReadonlyMap<string, TimelineRecordState>;
  /** Legacy flow: every PATCH of timeline records, in arrival order. */
  readonly timelineUpdates: readonly TimelineUpdateRecord[];
  /** Legacy flow: logs by id. */
  readonly logs: ReadonlyMap<number, LegacyLogRecord>;
  /** Legacy flow: timeline record attachments (step summaries) by `recordId/type/name`. */
  readonly attachments: ReadonlyMap<string, LegacyAttachmentRecord>;
  /** Legacy flow: plan events raised, in order. */
  readonly planEvents: readonly PlanEventRecord[];
  /** Legacy flow: the job request's finish (PATCH with `finishTime` and `result`), when sent. */
  readonly requestFinish: { readonly result: string; readonly finishTime: string } | undefined;
}

/** Legacy flow: a file attached to a timeline record (a step summary: type `Checks.Step.Summary`). */
export interface LegacyAttachmentRecord {
  readonly recordId: string;
  readonly type: string;
  readonly name: string;
  readonly content: string;
  /** PUTs of it (a second one replaces the first). */
  readonly puts: number;
}

/** The mutable job the server updates. */
export interface JobEntry extends JobRecord {
  status: JobStatus;
  result: JobConclusion | undefined;
  runnerId: number | undefined;
  assignedAt: Date | undefined;
  acquiredAt: Date | undefined;
  acquireCount: number;
  lockedUntil: Date | undefined;
  renewals: Date[];
  cancelRequestedAt: Date | undefined;
  completedAt: Date | undefined;
  completion: CompletionRecord | undefined;
  completeCount: number;
  token: string | undefined;
  message: Record<string, unknown> | undefined;
  steps: StepUpdateRecord[];
  changeOrders: number[];
  feed: FeedLineRecord[];
  feedRejected: FeedRejection[];
  stepLogMetadata: Map<string, LogMetadataRecord>;
  jobLogMetadata: LogMetadataRecord | undefined;
  legacyRequestId: number | undefined;
  timeline: Map<string, TimelineRecordState>;
  timelineUpdates: TimelineUpdateRecord[];
  logs: Map<number, LegacyLogRecord>;
  attachments: Map<string, LegacyAttachmentRecord>;
  planEvents: PlanEventRecord[];
  requestFinish: { readonly result: string; readonly finishTime: string } | undefined;
  /** What the message is built from. */
  readonly prepared: PreparedJob;
}

/** A one-line description for timeouts and logs (no tokens, no log text). */
export function describeJob(job: JobRecord): string {
  const parts = [
    `status=${job.status}`,
    `result=${job.result ?? "none"}`,
    `runner=${job.runnerId ?? "none"}`,
    `runs-on=[${job.runsOn.join(", ")}]`,
    `acquired=${job.acquireCount}`,
    `renewals=${job.renewals.length}`,
    `steps=${job.steps.length}`,
    `feed lines=${job.feed.length}`,
  ];
  if (job.cancelRequestedAt !== undefined) parts.push("cancel requested");
  if (job.completion !== undefined) parts.push(`completed ${job.completion.conclusion}`);
  return parts.join(", ");
}
