import type { JsonObject } from "@bufbuild/protobuf";
import { Result } from "@solstice/forgejo-protocol";

// A task as the test server holds it: Forgejo's action_run_job + action_task + action_task_step
// + action_task_output rows + the log, folded into one record. Tests read it (live) through
// ForgejoTestServer.task(id).

/** Where a task is: not yet fetched, fetched by a runner, or finished (any result). */
export type TaskStatus = "waiting" | "running" | "done";

/** A step's state as stored from UpdateTask (Forgejo's action_task_step). */
export interface TaskStepRecord {
  /** The step's index in the job, from 0 (StepState.id). */
  readonly id: number;
  /** Forgejo's step name: name, else uses, else run, else id. */
  readonly name: string;
  readonly result: Result;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
  /** Absolute row number of the step's first log row. */
  readonly logIndex: number;
  readonly logLength: number;
}

/** The task's stored state. */
export interface TaskStateRecord {
  /** UNSPECIFIED until the task is done; then its final result (CANCELLED after cancelTask). */
  readonly result: Result;
  /** When a runner fetched the task. */
  readonly startedAt?: Date;
  /** From the final UpdateTask's stopped_at, or when the task was cancelled. */
  readonly stoppedAt?: Date;
  /** One per step of the job, in order. */
  readonly steps: readonly TaskStepRecord[];
}

/** A stored log row. */
export interface LogRowRecord {
  /** The row's own timestamp (LogRow.time). */
  readonly time: Date;
  readonly content: string;
  /** `Date.now()` when the server stored the row. */
  readonly receivedAt: number;
}

/** A job this task needs, as given to addTask and sent in Task.needs. */
export interface TaskNeedRecord {
  readonly result: Result;
  readonly outputs?: Readonly<Record<string, string>>;
}

/** A task, live: the server updates it as runners call. */
export interface TaskRecord {
  readonly id: bigint;
  readonly runId: bigint;
  /** `owner/name`. */
  readonly repository: string;
  readonly jobId: string;
  /** The job's display name, e.g. `test (1.22, linux)`. */
  readonly jobName: string;
  /** The evaluated `runs-on` labels; a runner must have all of them. */
  readonly runsOn: readonly string[];
  /** The matrix row the task runs. */
  readonly matrix: Readonly<Record<string, unknown>>;
  /** Task.workflow_payload: the single-job workflow. */
  readonly payloadYaml: string;
  /** Task.context. */
  readonly context: JsonObject;
  /** Task.secrets, with GITHUB_TOKEN, GITEA_TOKEN and FORGEJO_TOKEN set to the task token. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly vars: Readonly<Record<string, string>>;
  readonly needs: Readonly<Record<string, TaskNeedRecord>>;
  /** The task token (context.token): also the password for git over HTTP while the task runs. */
  readonly token: string;
  /** The runner that fetched it. */
  readonly runnerUuid?: string;
  readonly status: TaskStatus;
  /** The stored result: what UpdateTask answers (UNSPECIFIED until done). */
  readonly result: Result;
  readonly state: TaskStateRecord;
  /** Every log row stored, in order. */
  readonly rows: readonly LogRowRecord[];
  /**
   * The log was archived (Forgejo's log_in_storage): set by an UpdateLog with `no_more` that
   * wrote rows. An UpdateLog with `no_more` and nothing new to write archives nothing, as in
   * Forgejo; see `noMore`.
   */
  readonly logArchived: boolean;
  /** Some UpdateLog said `no_more` (whether or not it archived the log). */
  readonly noMore: boolean;
  /** Stored outputs: the first value sent for each key. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The result of the last UpdateTask request, even one ignored because the task was done. */
  readonly lastReportedResult: Result;
  /** How many UpdateTask calls reached this task. */
  readonly updateCount: number;
  readonly createdAt: Date;
}

/** A step as stored, mutable by the store. */
export interface StepEntry {
  readonly id: number;
  readonly name: string;
  result: Result;
  startedAt?: Date;
  stoppedAt?: Date;
  logIndex: number;
  logLength: number;
}

/** The record the store mutates; handed out as a {@link TaskRecord}. */
export class TaskEntry implements TaskRecord {
  readonly id: bigint;
  readonly runId: bigint;
  readonly repository: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly runsOn: readonly string[];
  readonly matrix: Readonly<Record<string, unknown>>;
  readonly payloadYaml: string;
  readonly context: JsonObject;
  readonly secrets: Readonly<Record<string, string>>;
  readonly vars: Readonly<Record<string, string>>;
  readonly needs: Readonly<Record<string, TaskNeedRecord>>;
  readonly token: string;
  readonly stepNames: readonly string[];
  readonly createdAt: Date;
  runnerId?: bigint;
  runnerUuid?: string;
  status: TaskStatus = "waiting";
  state: { result: Result; startedAt?: Date; stoppedAt?: Date; steps: StepEntry[] } = {
    result: Result.UNSPECIFIED,
    steps: [],
  };
  readonly rows: LogRowRecord[] = [];
  logArchived = false;
  noMore = false;
  readonly outputs: Record<string, string> = {};
  lastReportedResult: Result = Result.UNSPECIFIED;
  updateCount = 0;

  constructor(fields: {
    id: bigint;
    runId: bigint;
    repository: string;
    jobId: string;
    jobName: string;
    runsOn: readonly string[];
    matrix: Readonly<Record<string, unknown>>;
    payloadYaml: string;
    context: JsonObject;
    secrets: Readonly<Record<string, string>>;
    vars: Readonly<Record<string, string>>;
    needs: Readonly<Record<string, TaskNeedRecord>>;
    token: string;
    stepNames: readonly string[];
    createdAt: Date;
  }) {
    this.id = fields.id;
    this.runId = fields.runId;
    this.repository = fields.repository;
    this.jobId = fields.jobId;
    this.jobName = fields.jobName;
    this.runsOn = fields.runsOn;
    this.matrix = fields.matrix;
    this.payloadYaml = fields.payloadYaml;
    this.context = fields.context;
    this.secrets = fields.secrets;
    this.vars = fields.vars;
    this.needs = fields.needs;
    this.token = fields.token;
    this.stepNames = fields.stepNames;
    this.createdAt = fields.createdAt;
  }

  get result(): Result {
    return this.state.result;
  }
}

const RESULT_NAMES: Readonly<Record<number, string>> = {
  [Result.UNSPECIFIED]: "UNSPECIFIED",
  [Result.SUCCESS]: "SUCCESS",
  [Result.FAILURE]: "FAILURE",
  [Result.CANCELLED]: "CANCELLED",
  [Result.SKIPPED]: "SKIPPED",
};

/** `SUCCESS`, `CANCELLED`...: a Result's name. */
export function resultName(result: Result): string {
  return RESULT_NAMES[result] ?? `RESULT_${result}`;
}

/** A one-line description of a task's state for messages (no tokens, no secrets, no log text). */
export function describeTask(task: TaskRecord): string {
  const steps = task.state.steps.map((s) => `${s.id}=${resultName(s.result)}`).join(",");
  return [
    `id ${task.id} job ${task.jobId} "${task.jobName}" runs-on [${task.runsOn.join(", ")}]`,
    `status ${task.status}${task.runnerUuid === undefined ? "" : ` (runner ${task.runnerUuid})`}`,
    `result ${resultName(task.result)} (last reported ${resultName(task.lastReportedResult)}, ${task.updateCount} updates)`,
    `steps [${steps}]`,
    `${task.rows.length} log rows${task.noMore ? ", no_more received" : ""}${task.logArchived ? ", archived" : ""}`,
    `outputs [${Object.keys(task.outputs).join(", ")}]`,
  ].join("; ");
}
