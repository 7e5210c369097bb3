import { Result } from "@solstice/forgejo-protocol";
import type { TaskEntry } from "./task-record.ts";

// Forgejo's UpdateTaskByState (services/actions/task.go): a finished task ignores every later
// state; a state with a result finishes the task (its stopped time from stopped_at); each stored
// step takes the result, times and log range the state gives for its index. A step the state
// leaves out, or reports without a result, counts as running once it has started.

/** A step as a runner reports it. */
export interface ReportedStep {
  readonly id: number;
  readonly result: Result;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
  readonly logIndex: number;
  readonly logLength: number;
}

/** A task state as a runner reports it (TaskState, times converted). */
export interface ReportedState {
  readonly result: Result;
  readonly stoppedAt?: Date;
  readonly steps: readonly ReportedStep[];
}

/** Applies a reported state to a task; says whether it finished the task. */
export function applyReportedState(task: TaskEntry, state: ReportedState): { finished: boolean } {
  if (task.status === "done") return { finished: false };
  let finished = false;
  if (state.result !== Result.UNSPECIFIED) {
    task.state.result = state.result;
    task.state.stoppedAt = state.stoppedAt;
    task.status = "done";
    finished = true;
  }
  const reported = new Map(state.steps.map((s) => [s.id, s]));
  for (const step of task.state.steps) {
    let result: Result = Result.UNSPECIFIED;
    const v = reported.get(step.id);
    if (v !== undefined) {
      result = v.result;
      step.logIndex = v.logIndex;
      step.logLength = v.logLength;
      step.startedAt = v.startedAt;
      step.stoppedAt = v.stoppedAt;
    }
    if (result !== Result.UNSPECIFIED) step.result = result;
    else if (step.startedAt !== undefined) step.result = Result.UNSPECIFIED;
  }
  return { finished };
}

/**
 * Forgejo's stopTask (the cancel button): a task not yet finished gets `result` and a stopped
 * time, and so does each of its steps not yet finished.
 */
export function stopTask(task: TaskEntry, result: Result, now: Date): boolean {
  if (task.status === "done") return false;
  task.status = "done";
  task.state.result = result;
  task.state.stoppedAt = now;
  for (const step of task.state.steps) {
    if (step.result !== Result.UNSPECIFIED) continue;
    step.result = result;
    step.startedAt ??= now;
    step.stoppedAt = now;
  }
  return true;
}
