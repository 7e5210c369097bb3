import type { TaskJournal } from "@solstice/runner-core";
import { z } from "zod";
import type { JobReportSnapshot } from "./job-report.ts";

// What the GitHub runner journals of a running job (runner-core's TaskJournal writes and reads
// it): which job and runner, where the job's calls go, and the report's snapshot (steps whose
// logs GitHub holds; from which event the durable event queue must replay). No log lines, no
// secrets and no tokens: the job's access token lives in its own 0600 file (job-token-store.ts).

const ConclusionSchema = z.enum([
  "succeeded",
  "succeededWithIssues",
  "failed",
  "canceled",
  "skipped",
  "abandoned",
]);

const AnnotationSchema = z.object({
  level: z.enum(["notice", "warning", "failure"]),
  message: z.string(),
  title: z.string().optional(),
  rawDetails: z.string().optional(),
  path: z.string().optional(),
  isInfrastructureIssue: z.boolean().optional(),
  startLine: z.number().int().optional(),
  endLine: z.number().int().optional(),
  startColumn: z.number().int().optional(),
  endColumn: z.number().int().optional(),
  stepNumber: z.number().int().optional(),
});

const StepSnapshotSchema = z.object({
  externalId: z.string(),
  number: z.number().int().positive(),
  name: z.string(),
  contextName: z.string().optional(),
  status: z.enum(["pending", "inProgress", "completed"]),
  conclusion: ConclusionSchema.optional(),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  lineCount: z.number().int().nonnegative(),
  logUploaded: z.boolean(),
  annotations: z.array(AnnotationSchema),
  outcome: z.enum(["success", "failure", "cancelled", "skipped"]).optional(),
  outputs: z.record(z.string(), z.string()).optional(),
  feedFrom: z.number().int().nonnegative(),
});

/** A report snapshot (JobReportSnapshot). */
export const JobReportSnapshotSchema = z.object({
  appliedSeq: z.number().int().nonnegative(),
  changeOrder: z.number().int().nonnegative(),
  conclusion: ConclusionSchema.optional(),
  reason: z.string().optional(),
  startedAt: z.string(),
  completedAt: z.string().optional(),
  jobLogUploaded: z.boolean(),
  outputTemplates: z.record(z.string(), z.string()),
  stepIds: z.array(z.string().nullable()),
  steps: z.array(StepSnapshotSchema),
});

/** A journal entry: one running job. `taskId` is the job id (the journal's file name). */
export const GitHubJobJournalEntrySchema = z.object({
  taskId: z.string().min(1),
  requestId: z.string().min(1),
  /** The runner that acquired the job: its agent id and name, and the owner instance of its events. */
  runner: z.object({ agentId: z.number().int().nonnegative(), name: z.string(), instance: z.string() }),
  planId: z.string().min(1),
  jobId: z.string().min(1),
  billingOwnerId: z.string().optional(),
  /** SystemVssConnection: renewjob and completejob. */
  connectionUrl: z.string().min(1),
  resultsEndpoint: z.string().optional(),
  feedStreamUrl: z.string().optional(),
  /**
   * Legacy (GHES) jobs: the runner's tenant and pool (renewals and, for older plans, the finish
   * of the job request), and where the plan's timeline, logs and events are.
   */
  legacy: z
    .object({
      serverUrl: z.string().min(1),
      poolId: z.number().int().nonnegative(),
      requestId: z.number().int().nonnegative(),
      scopeIdentifier: z.string().min(1),
      hub: z.string().min(1),
      timelineId: z.string().min(1),
      planVersion: z.number().int(),
      jobName: z.string(),
    })
    .optional(),
  /** Set once the job is handed to the orchestrators (before that a restart abandons it). */
  published: z.boolean(),
  report: JobReportSnapshotSchema,
});
/** @see GitHubJobJournalEntrySchema */
export type GitHubJobJournalEntry = Omit<z.infer<typeof GitHubJobJournalEntrySchema>, "report"> & {
  readonly report: JobReportSnapshot;
};

/** The GitHub runner's journal of running jobs. */
export type GitHubJobJournal = TaskJournal<GitHubJobJournalEntry>;

/**
 * The schema as the journal reads it (zod's optional fields read as `T | undefined`, which is
 * what the snapshot's fields are).
 */
export const jobJournalSchema = GitHubJobJournalEntrySchema as unknown as z.ZodType<GitHubJobJournalEntry>;
