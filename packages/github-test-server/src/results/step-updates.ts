import type { JobEntry, StepUpdateRecord } from "../jobs/job-record.ts";

// Step records of WorkflowStepsUpdate, by the Results API's own enums (not TaskResult or
// TimelineRecordState): an update of a step replaces the stored one unless it is older (a lower
// change_order); steps are kept in `number` order.

/** github.actions.results.api.v1 Status. */
export const STATUS_NAMES: Readonly<Record<string, number>> = {
  STATUS_UNKNOWN: 0,
  STATUS_IN_PROGRESS: 3,
  STATUS_PENDING: 5,
  STATUS_COMPLETED: 6,
};

/** github.actions.results.api.v1 Conclusion. */
export const CONCLUSION_NAMES: Readonly<Record<string, number>> = {
  CONCLUSION_UNKNOWN: 0,
  CONCLUSION_SUCCESS: 2,
  CONCLUSION_FAILURE: 3,
  CONCLUSION_CANCELLED: 4,
  CONCLUSION_SKIPPED: 7,
};

/** One step of an update, as parsed. */
export interface StepUpdateInput {
  readonly external_id: string;
  readonly number: number;
  readonly name?: string | null | undefined;
  readonly status: number;
  readonly conclusion: number;
  readonly started_at?: string | null | undefined;
  readonly completed_at?: string | null | undefined;
}

/** Applies one WorkflowStepsUpdate to the job's step records. */
export function applyStepUpdates(
  job: JobEntry,
  changeOrder: number,
  steps: readonly StepUpdateInput[],
  at: Date,
): void {
  job.changeOrders.push(changeOrder);
  for (const step of steps) {
    const externalId = step.external_id.toLowerCase();
    const index = job.steps.findIndex((s) => s.externalId === externalId);
    const existing = index < 0 ? undefined : job.steps[index];
    if (existing !== undefined && existing.changeOrder > changeOrder) continue;
    const record: StepUpdateRecord = {
      externalId,
      number: step.number,
      name: step.name ?? existing?.name ?? "",
      status: step.status,
      conclusion: step.conclusion,
      startedAt: step.started_at ?? existing?.startedAt,
      completedAt: step.completed_at ?? existing?.completedAt,
      changeOrder,
      updatedAt: at,
    };
    if (index < 0) job.steps.push(record);
    else job.steps[index] = record;
  }
  job.steps.sort((a, b) => a.number - b.number);
}
