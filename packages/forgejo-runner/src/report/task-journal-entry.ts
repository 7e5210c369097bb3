import type { TaskJournal } from "@solstice/runner-core";
import { z } from "zod";
import type { TaskReportSnapshot } from "./task-report.ts";

// What the Forgejo runner journals of a running task (runner-core's TaskJournal writes and reads
// it): the job that feeds it, how many log rows Forgejo holds, the step states, the outputs, and
// from which event on the job's durable event queue must be replayed. No rows, no tokens.

const StepSchema = z.object({
  result: z.number().int(),
  startedAt: z.string().optional(),
  stoppedAt: z.string().optional(),
  logIndex: z.number().int().nonnegative(),
  logLength: z.number().int().nonnegative(),
  stepId: z.string().optional(),
  outcome: z.enum(["success", "failure", "skipped", "cancelled"]).optional(),
  outputs: z.record(z.string(), z.string()).optional(),
});

/** A journal entry. */
export const TaskJournalEntrySchema = z.object({
  taskId: z.string().regex(/^\d+$/),
  requestId: z.string().min(1),
  ackIndex: z.number().int().nonnegative(),
  durableSeq: z.number().int().nonnegative(),
  result: z.number().int(),
  startedAt: z.string(),
  stoppedAt: z.string().optional(),
  steps: z.array(StepSchema),
  outputTemplates: z.record(z.string(), z.string()),
  sentOutputs: z.array(z.string()),
  logClosed: z.boolean(),
});

/** The Forgejo runner's journal of running tasks. */
export type ForgejoTaskJournal = TaskJournal<TaskReportSnapshot>;

/**
 * The schema as the journal reads it. Its output is a `TaskReportSnapshot` with plain numbers
 * where the report holds protobuf enum values (the same numbers).
 */
export const taskJournalSchema = TaskJournalEntrySchema as unknown as z.ZodType<TaskReportSnapshot>;
