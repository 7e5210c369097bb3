import { z } from "zod";
import { RequestIdSchema } from "./job-request.ts";
import { optionalField } from "./optional-field.ts";
import { Rfc3339Schema } from "./timestamp.ts";

/** The `schema_version` every job event carries. */
export const JOB_EVENT_SCHEMA_VERSION = "jobevent.v1";

/** Fields every job event carries. `seq` orders the events of one job: 0, 1, 2, ... */
const eventBase = {
  schema_version: z.literal(JOB_EVENT_SCHEMA_VERSION).default(JOB_EVENT_SCHEMA_VERSION),
  request_id: RequestIdSchema,
  /** When it happened, RFC 3339. */
  timestamp: Rfc3339Schema,
  /** Per job, from 0, +1 for every event, whatever its type: a consumer restores order and sees gaps. */
  seq: z.number().int().nonnegative(),
};

/** Index of a step in the job's steps, from 0. */
const StepIndexSchema = z.number().int().nonnegative();

/** Where a log line came from; `system` lines are Solstice's own (boot console, checkout, notices). */
export const LogStreamSchema = z.enum(["stdout", "stderr", "system"]);
/** @see LogStreamSchema */
export type LogStream = z.infer<typeof LogStreamSchema>;

/**
 * Output: one line (without its line terminator), or several lines a step printed that were read
 * together, joined by `\n` (they share the timestamp). Consumers showing lines split on `\n`.
 */
export const LogEventSchema = z.object({
  type: z.literal("log"),
  ...eventBase,
  /** The step that printed it; `null` for job-level lines (VM boot, checkout, teardown). */
  step: StepIndexSchema.nullable(),
  stream: LogStreamSchema,
  text: z.string(),
});
/** @see LogEventSchema */
export type LogEvent = z.infer<typeof LogEventSchema>;

/** The job was accepted and is being set up (VM provisioning starts). */
export const JobStartedEventSchema = z.object({
  type: z.literal("job_started"),
  ...eventBase,
  /** The orchestrator host that runs it. */
  host: optionalField(z.string()),
  /** The label the job's `runs_on` resolved to. */
  label: optionalField(z.string()),
});
/** @see JobStartedEventSchema */
export type JobStartedEvent = z.infer<typeof JobStartedEventSchema>;

/** A step begins. */
export const StepStartedEventSchema = z.object({
  type: z.literal("step_started"),
  ...eventBase,
  step: StepIndexSchema,
  name: z.string(),
});
/** @see StepStartedEventSchema */
export type StepStartedEvent = z.infer<typeof StepStartedEventSchema>;

/** How a step ended. `skipped` steps were not run (an earlier failure, or their `if`). */
export const StepConclusionSchema = z.enum(["success", "failure", "skipped", "cancelled"]);
/** @see StepConclusionSchema */
export type StepConclusion = z.infer<typeof StepConclusionSchema>;

/** A step ended (or was skipped, then with no `step_started` before it). */
export const StepFinishedEventSchema = z.object({
  type: z.literal("step_finished"),
  ...eventBase,
  step: StepIndexSchema,
  /** The command's exit code; `null` when it has none (skipped, killed by timeout or cancel). */
  exit_code: z.number().int().nullable(),
  duration_ms: z.number().int().nonnegative(),
  conclusion: StepConclusionSchema,
  /** What the step wrote to GITHUB_OUTPUT (masked), for `steps.<id>.outputs` and the job's outputs. */
  outputs: optionalField(z.record(z.string(), z.string())),
  /** What the step wrote to GITHUB_STEP_SUMMARY (markdown, masked, at most 1 MiB), for forges that show it. */
  summary: optionalField(z.string().max(1024 * 1024)),
});
/** @see StepFinishedEventSchema */
export type StepFinishedEvent = z.infer<typeof StepFinishedEventSchema>;

/** How a job ended. */
export const JobConclusionSchema = z.enum(["success", "failure", "cancelled"]);
/** @see JobConclusionSchema */
export type JobConclusion = z.infer<typeof JobConclusionSchema>;

/** The job ended: always the job's last event. */
export const JobFinishedEventSchema = z.object({
  type: z.literal("job_finished"),
  ...eventBase,
  conclusion: JobConclusionSchema,
  /** Why, for people: "step 2 (Test) exited with 1", "unknown label foo", "orchestrator restarted". */
  reason: optionalField(z.string()),
});
/** @see JobFinishedEventSchema */
export type JobFinishedEvent = z.infer<typeof JobFinishedEventSchema>;

/**
 * Any job event: the way back from the orchestrator to the job's owner. Consumers `switch` on
 * `type`. Events of one job are ordered by `seq` (see `EventReorderer`).
 */
export const JobEventSchema = z
  .discriminatedUnion("type", [
    LogEventSchema,
    JobStartedEventSchema,
    StepStartedEventSchema,
    StepFinishedEventSchema,
    JobFinishedEventSchema,
  ])
  .describe("JobEvent");
/** @see JobEventSchema */
export type JobEvent = z.infer<typeof JobEventSchema>;
/** The `type` tags of job events. */
export type JobEventType = JobEvent["type"];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * A job event as a producer describes it, before `EventSequencer` stamps it: no `seq`,
 * `request_id` or `schema_version`; `timestamp` optional (defaults to now).
 */
export type UnsequencedJobEvent = DistributiveOmit<
  JobEvent,
  "seq" | "schema_version" | "request_id" | "timestamp"
> & { timestamp?: string };
