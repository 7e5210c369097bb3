import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type JobConclusion,
  type JobEvent,
  LogMasker,
  renderStepTemplate,
  type StepConclusion,
  type StepRecord,
} from "@solstice/common";
import { type LogRow, Result, type TaskStateSchema } from "@solstice/forgejo-protocol";

// What Forgejo should know about one task, built from the job's events: log rows (masked),
// step states and the result. Pure: the reporter (task-reporter.ts) sends it, the journal
// (task-journal.ts) saves the part that survives a restart.
//
// Rows are numbered from 0 for the whole task; a step's rows are [log_index, log_index +
// log_length), rows of the step that directly follow its end included. Rows before `ackIndex` are
// at the server and dropped from memory. Each row
// remembers the event that made it, so `durableSeq` says which events are fully delivered: the
// event queue may acknowledge every event below it.

/** One step's state as Forgejo sees it. */
export interface StepReport {
  result: Result;
  startedAt: Date | undefined;
  stoppedAt: Date | undefined;
  logIndex: number;
  logLength: number;
  /** Its `id` in the workflow, for `steps.<id>` in job outputs. */
  readonly stepId: string | undefined;
  outcome: StepConclusion | undefined;
  outputs: Record<string, string> | undefined;
}

/** What survives a restart (no secrets: rows are masked, outputs are the job's). */
export interface TaskReportSnapshot {
  readonly taskId: string;
  readonly requestId: string;
  readonly ackIndex: number;
  readonly durableSeq: number;
  readonly result: Result;
  readonly startedAt: string;
  readonly stoppedAt: string | undefined;
  readonly steps: readonly {
    result: Result;
    startedAt?: string | undefined;
    stoppedAt?: string | undefined;
    logIndex: number;
    logLength: number;
    stepId?: string | undefined;
    outcome?: StepConclusion | undefined;
    outputs?: Record<string, string> | undefined;
  }[];
  readonly outputTemplates: Record<string, string>;
  readonly sentOutputs: readonly string[];
  readonly logClosed: boolean;
}

interface PendingRow {
  readonly row: LogRow;
  /** The event that made the row; -1 for rows the runner adds itself. */
  readonly seq: number;
  /** The absolute index of the first row that event made (an event may hold several lines). */
  readonly eventFirstRow: number;
}

const STEP_RESULTS: Record<StepConclusion, Result> = {
  success: Result.SUCCESS,
  failure: Result.FAILURE,
  skipped: Result.SKIPPED,
  cancelled: Result.CANCELLED,
};

const JOB_RESULTS: Record<JobConclusion, Result> = {
  success: Result.SUCCESS,
  failure: Result.FAILURE,
  cancelled: Result.CANCELLED,
};

/** Options of a new {@link TaskReport}. */
export interface TaskReportInit {
  readonly taskId: bigint;
  readonly requestId: string;
  /** Values to mask (secrets, tokens). */
  readonly mask?: readonly string[];
  /** The job's steps: their workflow `id`s (index = the step's position). */
  readonly stepIds?: readonly (string | undefined)[];
  /** The job's `outputs:` templates. */
  readonly outputTemplates?: Readonly<Record<string, string>>;
  readonly startedAt?: Date;
}

/** The task's reportable state. */
export class TaskReport {
  readonly taskId: bigint;
  readonly requestId: string;
  readonly #masker: LogMasker;
  #steps: StepReport[];
  #pending: PendingRow[] = [];
  #ackIndex = 0;
  #rowCount = 0;
  /** The next event seq expected (every event below it was applied). */
  #appliedSeq = 0;
  #result: Result = Result.UNSPECIFIED;
  #startedAt: Date;
  #stoppedAt: Date | undefined;
  #outputTemplates: Record<string, string>;
  readonly #sentOutputs = new Set<string>();
  #logClosed = false;
  /** After a restart: rows of replayed events Forgejo already holds, dropped as they come again. */
  #skip = 0;
  /** After a restart: the server's row count is not known yet (see `syncServerAck`). */
  #unsynced = false;
  #afterSync: string[] = [];

  constructor(init: TaskReportInit) {
    this.taskId = init.taskId;
    this.requestId = init.requestId;
    this.#masker = new LogMasker(init.mask ?? []);
    this.#startedAt = init.startedAt ?? new Date();
    this.#outputTemplates = { ...(init.outputTemplates ?? {}) };
    this.#steps = (init.stepIds ?? []).map((stepId) => newStep(stepId, 0));
  }

  /** A report resumed from its journal (after a restart). */
  static fromSnapshot(snapshot: TaskReportSnapshot): TaskReport {
    const report = new TaskReport({
      taskId: BigInt(snapshot.taskId),
      requestId: snapshot.requestId,
      outputTemplates: snapshot.outputTemplates,
      startedAt: new Date(snapshot.startedAt),
    });
    report.#ackIndex = snapshot.ackIndex;
    report.#rowCount = snapshot.ackIndex;
    report.#unsynced = !snapshot.logClosed;
    report.#appliedSeq = snapshot.durableSeq;
    report.#result = snapshot.result;
    report.#stoppedAt = snapshot.stoppedAt === undefined ? undefined : new Date(snapshot.stoppedAt);
    report.#logClosed = snapshot.logClosed;
    for (const key of snapshot.sentOutputs) report.#sentOutputs.add(key);
    report.#steps = snapshot.steps.map((s) => ({
      result: s.result,
      startedAt: s.startedAt === undefined ? undefined : new Date(s.startedAt),
      stoppedAt: s.stoppedAt === undefined ? undefined : new Date(s.stoppedAt),
      logIndex: s.logIndex,
      logLength: s.logLength,
      stepId: s.stepId,
      outcome: s.outcome,
      outputs: s.outputs,
    }));
    return report;
  }

  /** The steps of the job, once known (the request is translated after the report starts). */
  setSteps(
    stepIds: readonly (string | undefined)[],
    outputTemplates: Readonly<Record<string, string>>,
  ): void {
    this.#steps = stepIds.map((stepId) => newStep(stepId, this.#rowCount));
    this.#outputTemplates = { ...outputTemplates };
  }

  /** Registers more values to mask (from now on). */
  addMask(values: readonly string[]): void {
    for (const value of values) this.#masker.add(value);
  }

  /** The next event `seq` this report expects. */
  get appliedSeq(): number {
    return this.#appliedSeq;
  }

  /** Every event below this seq is fully delivered to Forgejo (its rows acknowledged). */
  get durableSeq(): number {
    return this.#pending.find((p) => p.seq >= 0)?.seq ?? this.#appliedSeq;
  }

  /** Rows the server acknowledged. */
  get ackIndex(): number {
    return this.#ackIndex;
  }

  /** Rows made so far. */
  get rowCount(): number {
    return this.#rowCount;
  }

  /** True once the job has its result. */
  get done(): boolean {
    return this.#result !== Result.UNSPECIFIED;
  }

  get result(): Result {
    return this.#result;
  }

  /** True once the server archived the log (`no_more` acknowledged). */
  get logClosed(): boolean {
    return this.#logClosed;
  }

  /** Adds a row of the runner's own (masked like any other). */
  addRunnerRow(content: string, time: Date = new Date()): void {
    // Until a resumed report knows where the server's log ends, its own rows wait.
    if (this.#unsynced || this.#skip > 0) this.#afterSync.push(content);
    else this.#push(this.#masker.mask(content), timestampFromDate(time), -1, this.#rowCount);
  }

  /** Whether a resumed report still needs `syncServerAck` (before sending any row). */
  get unsynced(): boolean {
    return this.#unsynced;
  }

  /**
   * A resumed report learns how many rows the server holds (an UpdateLog without rows answers
   * it). The journal's count may be lower (the runner stopped between Forgejo's acknowledgement
   * and the journal write): the replayed events' first rows are then already there, and are
   * dropped as they come again, so that no row is sent twice or shifted.
   */
  syncServerAck(serverAck: number): void {
    if (!this.#unsynced) return;
    this.#unsynced = false;
    if (serverAck > this.#ackIndex) {
      this.#skip = serverAck - this.#ackIndex;
      this.#ackIndex = serverAck;
    }
    this.#flushAfterSync();
  }

  /**
   * Applies the job's next event (the caller restores `seq` order). Events below `appliedSeq`
   * are ignored (already applied before a restart).
   */
  apply(event: JobEvent): void {
    if (event.seq < this.#appliedSeq) return;
    this.#appliedSeq = event.seq + 1;
    const time = new Date(event.timestamp);
    // One Timestamp for all rows an event makes (they share its time; rows are never changed).
    const stamp = timestampFromDate(time);
    switch (event.type) {
      case "log": {
        const first = this.#rowCount;
        for (const line of event.text.split("\n")) {
          const content =
            event.stream === "system" ? this.#masker.mask(line) : groupMarker(this.#masker.maskLine(line));
          this.#push(content, stamp, event.seq, first);
        }
        if (event.step !== null) this.#extendFinishedStep(event.step, first, this.#rowCount);
        return;
      }
      case "job_started":
        this.#push(
          `Solstice CI: running in a VM${event.label === undefined ? "" : ` of ${event.label}`}${event.host === undefined ? "" : ` on ${event.host}`}`,
          stamp,
          event.seq,
          this.#rowCount,
        );
        return;
      case "step_started": {
        const step = this.#step(event.step);
        if (step.startedAt === undefined) {
          step.startedAt = time;
          step.logIndex = this.#rowCount;
        }
        return;
      }
      case "step_finished": {
        const step = this.#step(event.step);
        if (step.startedAt === undefined) {
          step.startedAt = time;
          step.logIndex = this.#rowCount;
        }
        step.stoppedAt = time;
        step.result = STEP_RESULTS[event.conclusion];
        step.logLength = this.#rowCount - step.logIndex;
        step.outcome = event.conclusion;
        const outputs = (event as { outputs?: Record<string, string> }).outputs;
        if (outputs !== undefined) step.outputs = { ...outputs };
        return;
      }
      case "job_finished":
        if (event.conclusion !== "success" && event.reason !== undefined) {
          this.#push(
            `Solstice CI: the job ${jobVerb(event.conclusion)}: ${event.reason}`,
            stamp,
            event.seq,
            this.#rowCount,
          );
        }
        this.finish(JOB_RESULTS[event.conclusion], time);
        return;
    }
  }

  /** Ends the task with `result` (steps without one become cancelled, as in Forgejo). */
  finish(result: Result, time: Date = new Date()): void {
    if (this.done) return;
    this.#result = result === Result.UNSPECIFIED ? Result.FAILURE : result;
    this.#stoppedAt = time;
    for (const step of this.#steps) {
      if (step.result !== Result.UNSPECIFIED) continue;
      step.result = Result.CANCELLED;
      step.startedAt ??= time;
      step.stoppedAt = time;
      step.logIndex = step.logIndex || this.#rowCount;
      step.logLength = Math.max(0, this.#rowCount - step.logIndex);
    }
  }

  /** The rows to send: all not yet acknowledged, from `ackIndex` (at most `limit`). */
  pendingRows(limit = Number.POSITIVE_INFINITY): { index: number; rows: LogRow[]; last: boolean } {
    const slice = this.#pending.slice(0, limit);
    return {
      index: this.#ackIndex,
      rows: slice.map((p) => p.row),
      last: slice.length === this.#pending.length,
    };
  }

  /** How many rows wait for the server. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /**
   * The server now holds `ack` rows. Throws when it holds fewer than before (it lost rows: the
   * runner cannot resend them).
   */
  acknowledge(ack: number, noMoreSent: boolean): void {
    if (ack < this.#ackIndex) {
      throw new Error(
        `Forgejo acknowledged ${ack} log rows, fewer than the ${this.#ackIndex} it had already`,
      );
    }
    const dropped = Math.min(ack - this.#ackIndex, this.#pending.length);
    this.#pending.splice(0, dropped);
    this.#ackIndex = ack;
    if (noMoreSent && this.#pending.length === 0) this.#logClosed = true;
  }

  /** The log was archived by the server (AlreadyExists): nothing more can be sent. */
  markLogClosed(): void {
    this.#pending = [];
    this.#logClosed = true;
  }

  /** The state for UpdateTask. */
  taskState(): MessageInitShape<typeof TaskStateSchema> {
    return {
      id: this.taskId,
      result: this.#result,
      startedAt: timestampFromDate(this.#startedAt),
      ...(this.#stoppedAt === undefined ? {} : { stoppedAt: timestampFromDate(this.#stoppedAt) }),
      steps: this.#steps.map((step, index) => ({
        id: BigInt(index),
        result: step.result,
        ...(step.startedAt === undefined ? {} : { startedAt: timestampFromDate(step.startedAt) }),
        ...(step.stoppedAt === undefined ? {} : { stoppedAt: timestampFromDate(step.stoppedAt) }),
        logIndex: BigInt(step.logIndex),
        logLength: BigInt(step.logLength),
      })),
    };
  }

  /**
   * The job's outputs not yet acknowledged, rendered once the job is done (templates over the
   * steps' outputs); Forgejo limits keys to 255 bytes and values to 1 MiB.
   */
  unsentOutputs(): Record<string, string> {
    if (!this.done) return {};
    const steps: Record<string, StepRecord> = {};
    for (const step of this.#steps) {
      if (step.stepId === undefined) continue;
      const outcome = step.outcome;
      steps[step.stepId] = {
        ...(step.outputs === undefined ? {} : { outputs: step.outputs }),
        ...(outcome === undefined ? {} : { outcome, conclusion: outcome }),
      };
    }
    const status =
      this.#result === Result.SUCCESS
        ? "success"
        : this.#result === Result.CANCELLED
          ? "cancelled"
          : "failure";
    const out: Record<string, string> = {};
    for (const [key, template] of Object.entries(this.#outputTemplates)) {
      if (this.#sentOutputs.has(key) || Buffer.byteLength(key) > 255) continue;
      const rendered = renderStepTemplate(template, { status, steps });
      if ("value" in rendered && Buffer.byteLength(rendered.value) <= 1024 * 1024) out[key] = rendered.value;
    }
    return out;
  }

  /** The server has these output keys. */
  outputsSent(keys: readonly string[]): void {
    for (const key of keys) this.#sentOutputs.add(key);
  }

  /** Whether outputs remain to send. */
  get outputsPending(): boolean {
    return Object.keys(this.unsentOutputs()).length > 0;
  }

  /** What the journal keeps. */
  snapshot(): TaskReportSnapshot {
    return {
      taskId: this.taskId.toString(),
      requestId: this.requestId,
      // Where a restart resumes: the first row of the first event not wholly at the server.
      ackIndex: Math.min(
        this.#ackIndex,
        this.#pending.find((p) => p.seq >= 0)?.eventFirstRow ?? this.#ackIndex,
      ),
      durableSeq: this.durableSeq,
      result: this.#result,
      startedAt: this.#startedAt.toISOString(),
      stoppedAt: this.#stoppedAt?.toISOString(),
      steps: this.#steps.map((s) => ({
        result: s.result,
        startedAt: s.startedAt?.toISOString(),
        stoppedAt: s.stoppedAt?.toISOString(),
        logIndex: s.logIndex,
        logLength: s.logLength,
        stepId: s.stepId,
        outcome: s.outcome,
        outputs: s.outputs,
      })),
      outputTemplates: this.#outputTemplates,
      sentOutputs: [...this.#sentOutputs],
      logClosed: this.#logClosed,
    };
  }

  #push(content: string, time: Timestamp, seq: number, eventFirstRow: number): void {
    this.#rowCount += 1;
    if (this.#skip > 0) {
      this.#skip -= 1;
      if (this.#skip === 0) this.#flushAfterSync();
      return;
    }
    // The message as a literal: `create()` per row was the largest part of applying an event.
    const row: LogRow = { $typeName: "runner.v1.LogRow", time, content };
    this.#pending.push({ row, seq, eventFirstRow });
  }

  #flushAfterSync(): void {
    if (this.#skip > 0) return;
    for (const content of this.#afterSync.splice(0)) this.addRunnerRow(content);
  }

  /**
   * Rows of a step that come after its `step_finished` (the engine's "continue_on_error lets the
   * job go on") join its range while they follow it directly: Forgejo shows a step's rows only.
   */
  #extendFinishedStep(index: number, from: number, to: number): void {
    const step = this.#steps[index];
    if (step?.stoppedAt === undefined || step.logIndex + step.logLength !== from) return;
    step.logLength += to - from;
  }

  #step(index: number): StepReport {
    while (this.#steps.length <= index) this.#steps.push(newStep(undefined, this.#rowCount));
    return this.#steps[index]!;
  }
}

function newStep(stepId: string | undefined, logIndex: number): StepReport {
  return {
    result: Result.UNSPECIFIED,
    startedAt: undefined,
    stoppedAt: undefined,
    logIndex,
    logLength: 0,
    stepId,
    outcome: undefined,
    outputs: undefined,
  };
}

function jobVerb(conclusion: JobConclusion): string {
  return conclusion === "cancelled" ? "was cancelled" : "failed";
}

/** A result's name for logs: `success`, `failure`, `cancelled`, `skipped`, `unspecified`. */
export function resultName(result: Result): string {
  const names: Record<number, string> = {
    [Result.SUCCESS]: "success",
    [Result.FAILURE]: "failure",
    [Result.CANCELLED]: "cancelled",
    [Result.SKIPPED]: "skipped",
  };
  return names[result] ?? "unspecified";
}

/**
 * `::group::title` and `::endgroup::` from a step, as Forgejo's log view folds them: `##[group]title`
 * and `##[endgroup]` (what the Forgejo runner sends).
 */
function groupMarker(line: string): string {
  if (line.charCodeAt(0) !== 0x3a /* ':' */) return line;
  const group = /^::group::(.*)$/.exec(line);
  if (group !== null) return `##[group]${group[1]}`;
  return line === "::endgroup::" ? "##[endgroup]" : line;
}
