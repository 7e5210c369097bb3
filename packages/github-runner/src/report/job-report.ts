import {
  type JobConclusion,
  type JobEvent,
  LogMasker,
  renderStepTemplate,
  type StepConclusion,
  type StepRecord,
} from "@solstice/common";
import type { GitHubJobStep } from "../job/job-message-translation.ts";
import type {
  CompleteJobInput,
  JobConclusionName,
  RunServiceAnnotation,
  RunServiceStepResult,
} from "../run-service/run-service-api.ts";
import { displayLine, parseAnnotation } from "./workflow-commands.ts";

// What GitHub should know about one job, built from the job's events, without I/O (the
// reporter sends it): the steps in order with status, conclusion and times; their log lines,
// masked, timestamped as the reference runner's log files (`<ISO 8601 with 7 decimals> text`),
// counted, and whether each step's log and the job's log were uploaded; the lines not yet on
// the live feed (1-based line numbers per step); annotations from `::error`/`::warning`/
// `::notice` lines; and, once done, the job's conclusion and outputs for completejob.
// Steps are the JobRequest's: step i of the events is step i of the job message.

/** A step's status as the results service and completejob name it. */
export type StepStatus = "pending" | "inProgress" | "completed";

/** One step's state. */
export interface StepReportState {
  readonly externalId: string;
  readonly number: number;
  readonly name: string;
  readonly contextName: string | undefined;
  readonly status: StepStatus;
  readonly conclusion: JobConclusionName | undefined;
  readonly startedAt: Date | undefined;
  readonly completedAt: Date | undefined;
  readonly lineCount: number;
  readonly logUploaded: boolean;
  readonly annotations: readonly RunServiceAnnotation[];
}

interface MutableStep {
  externalId: string;
  number: number;
  name: string;
  contextName: string | undefined;
  status: StepStatus;
  conclusion: JobConclusionName | undefined;
  startedAt: Date | undefined;
  completedAt: Date | undefined;
  lines: string[];
  lineCount: number;
  logUploaded: boolean;
  annotations: RunServiceAnnotation[];
  outcome: StepConclusion | undefined;
  outputs: Record<string, string> | undefined;
  /** GITHUB_STEP_SUMMARY, uploaded with the step's log (and replayed with it after a restart). */
  summary: string | undefined;
  feedFrom: number;
  /** The seq of the first event that touched the step (its log is not durable before the upload). */
  firstSeq: number | undefined;
}

/**
 * What a restarted runner resumes from (the journal holds it): the steps whose logs GitHub has,
 * whole; the others as they were before their first event, which the event queue delivers again
 * (from {@link JobReportSnapshot.appliedSeq}). No log lines: those are on GitHub or in the queue.
 */
export interface JobReportSnapshot {
  readonly appliedSeq: number;
  readonly changeOrder: number;
  readonly conclusion: JobConclusionName | undefined;
  readonly reason: string | undefined;
  readonly startedAt: string;
  readonly completedAt: string | undefined;
  readonly jobLogUploaded: boolean;
  readonly outputTemplates: Readonly<Record<string, string>>;
  readonly stepIds: readonly (string | null)[];
  readonly steps: readonly StepSnapshot[];
}

/** One step of a {@link JobReportSnapshot}. */
export interface StepSnapshot {
  readonly externalId: string;
  readonly number: number;
  readonly name: string;
  readonly contextName: string | undefined;
  readonly status: StepStatus;
  readonly conclusion: JobConclusionName | undefined;
  readonly startedAt: string | undefined;
  readonly completedAt: string | undefined;
  readonly lineCount: number;
  readonly logUploaded: boolean;
  readonly annotations: readonly RunServiceAnnotation[];
  readonly outcome: StepConclusion | undefined;
  readonly outputs: Readonly<Record<string, string>> | undefined;
  readonly feedFrom: number;
}

/** Lines for the live feed of one step. */
export interface FeedBatch {
  readonly stepExternalId: string;
  /** 1-based number of the first line in the step's log. */
  readonly startLine: number;
  readonly lines: readonly string[];
}

/** A log ready to upload. */
export type PendingLog =
  | {
      readonly kind: "step";
      readonly index: number;
      readonly externalId: string;
      readonly content: string;
      readonly lineCount: number;
      /** The step's summary (markdown), uploaded before its log. */
      readonly summary: string | undefined;
    }
  | { readonly kind: "job"; readonly content: string; readonly lineCount: number };

/** Options of a new {@link JobReport}. */
export interface JobReportInit {
  readonly steps: readonly GitHubJobStep[];
  readonly mask?: readonly string[];
  /** Regular-expression mask hints. */
  readonly maskPatterns?: readonly string[];
  /** The JobRequest steps' `id`s (for `steps.<id>` in job outputs). */
  readonly stepIds?: readonly (string | undefined)[];
  /** The job's `outputs:` templates (TranslatedJob.outputs). */
  readonly outputTemplates?: Readonly<Record<string, string>>;
  readonly startedAt?: Date;
}

const STEP_CONCLUSIONS: Record<StepConclusion, JobConclusionName> = {
  success: "succeeded",
  failure: "failed",
  cancelled: "canceled",
  skipped: "skipped",
};

const JOB_CONCLUSIONS: Record<JobConclusion, JobConclusionName> = {
  success: "succeeded",
  failure: "failed",
  cancelled: "canceled",
};

/** A timestamp as .NET's "O" format writes it (7 decimals, UTC). */
export function dotnetTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}

/** The job's reportable state. */
export class JobReport {
  readonly #masker: LogMasker;
  readonly #patterns: RegExp[];
  readonly #steps: MutableStep[];
  readonly #stepIds: readonly (string | undefined)[];
  readonly #outputTemplates: Record<string, string>;
  readonly #jobLines: string[] = [];
  #jobLineCount = 0;
  #jobLogUploaded = false;
  #appliedSeq = 0;
  #conclusion: JobConclusionName | undefined;
  #reason: string | undefined;
  readonly startedAt: Date;
  #completedAt: Date | undefined;
  #stepsChanged = true;
  #changeOrder = 0;

  constructor(init: JobReportInit) {
    this.#masker = new LogMasker(init.mask ?? []);
    this.#patterns = (init.maskPatterns ?? []).map((p) => new RegExp(p, "g"));
    this.#steps = init.steps.map((s) => pendingStep(s.externalId, s.number, s.displayName, s.contextName));
    this.#stepIds = init.stepIds ?? [];
    this.#outputTemplates = { ...(init.outputTemplates ?? {}) };
    this.startedAt = init.startedAt ?? new Date();
  }

  /** The next event `seq` expected. */
  get appliedSeq(): number {
    return this.#appliedSeq;
  }

  /** True once the job has its conclusion. */
  get done(): boolean {
    return this.#conclusion !== undefined;
  }

  get conclusion(): JobConclusionName | undefined {
    return this.#conclusion;
  }

  /** Why the job did not succeed, when the engine said. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Registers more values to mask. */
  addMask(values: readonly string[]): void {
    for (const value of values) this.#masker.add(value);
  }

  /** Masks a line: registered values (and `::add-mask::`), then the hint patterns. */
  #mask(line: string, command: boolean): string {
    let out = command ? this.#masker.maskLine(line) : this.#masker.mask(line);
    for (const pattern of this.#patterns) out = out.replace(pattern, "***");
    return out;
  }

  /** Applies the job's next event (in `seq` order; older ones are ignored). */
  apply(event: JobEvent): void {
    if (event.seq < this.#appliedSeq) return;
    this.#appliedSeq = event.seq + 1;
    if (event.type !== "job_started" && event.type !== "job_finished" && event.step !== null) {
      this.#step(event.step).firstSeq ??= event.seq;
    }
    const time = new Date(event.timestamp);
    switch (event.type) {
      case "log": {
        const step = event.step === null ? undefined : this.#step(event.step);
        for (const raw of event.text.split("\n")) {
          const masked = this.#mask(raw, event.stream !== "system");
          if (step !== undefined && event.stream !== "system") {
            const annotation = parseAnnotation(masked, step.number);
            if (annotation !== undefined) step.annotations.push(annotation);
          }
          this.#addLine(step, displayLine(masked), time);
        }
        return;
      }
      case "job_started":
        this.#addLine(
          undefined,
          `Solstice CI: running in a VM${event.label === undefined ? "" : ` of ${event.label}`}${event.host === undefined ? "" : ` on ${event.host}`}`,
          time,
        );
        return;
      case "step_started": {
        const step = this.#step(event.step);
        if (step.status === "pending") {
          step.status = "inProgress";
          step.startedAt = time;
          this.#stepsChanged = true;
        }
        return;
      }
      case "step_finished": {
        const step = this.#step(event.step);
        // As the reference runner ends a failed script step's log (and annotates the run).
        if (event.conclusion === "failure" && event.exit_code !== null) {
          const message = `Process completed with exit code ${event.exit_code}.`;
          this.#addLine(step, `##[error]${message}`, time);
          step.annotations.push({ level: "failure", message, stepNumber: step.number });
        }
        if (event.summary !== undefined) step.summary = event.summary;
        step.startedAt ??= time;
        step.completedAt = time;
        step.status = "completed";
        step.conclusion = STEP_CONCLUSIONS[event.conclusion];
        step.outcome = event.conclusion;
        if (event.outputs !== undefined) step.outputs = { ...event.outputs };
        this.#stepsChanged = true;
        return;
      }
      case "job_finished":
        if (event.conclusion !== "success" && event.reason !== undefined) {
          this.#addLine(undefined, `##[error]Solstice CI: ${event.reason}`, time);
          this.#reason = event.reason;
        }
        this.finish(JOB_CONCLUSIONS[event.conclusion], time);
        return;
    }
  }

  /** Adds a line of the runner's own to the job log (masked). */
  addRunnerLine(text: string, time: Date = new Date()): void {
    this.#addLine(undefined, this.#mask(text, false), time);
  }

  /**
   * Ends the job. Steps that never started are `skipped`; steps still running are `canceled`
   * when the job was, else `failed`.
   */
  finish(conclusion: JobConclusionName, time: Date = new Date()): void {
    if (this.done) return;
    this.#conclusion = conclusion;
    this.#completedAt = time;
    for (const step of this.#steps) {
      if (step.status === "completed") continue;
      step.conclusion =
        step.status === "pending" ? "skipped" : conclusion === "canceled" ? "canceled" : "failed";
      step.status = "completed";
      step.startedAt ??= time;
      step.completedAt = time;
      this.#stepsChanged = true;
    }
  }

  /** The steps as they are now. */
  steps(): StepReportState[] {
    return this.#steps.map((s) => ({
      externalId: s.externalId,
      number: s.number,
      name: s.name,
      contextName: s.contextName,
      status: s.status,
      conclusion: s.conclusion,
      startedAt: s.startedAt,
      completedAt: s.completedAt,
      lineCount: s.lineCount,
      logUploaded: s.logUploaded,
      annotations: [...s.annotations],
    }));
  }

  /** Whether the steps changed since the last {@link takeStepsUpdate}. */
  get stepsChanged(): boolean {
    return this.#stepsChanged;
  }

  /** The steps for WorkflowStepsUpdate, with the next change order (1, 2, …); clears `stepsChanged`. */
  takeStepsUpdate(): { changeOrder: number; steps: StepReportState[] } {
    this.#stepsChanged = false;
    this.#changeOrder += 1;
    return { changeOrder: this.#changeOrder, steps: this.steps() };
  }

  /** A failed WorkflowStepsUpdate: send again next time. */
  stepsUpdateFailed(): void {
    this.#stepsChanged = true;
  }

  /** Whether a step whose log is not uploaded yet has lines the live feed has not had. */
  get hasUnfedLines(): boolean {
    return this.#steps.some((s) => !s.logUploaded && s.feedFrom < s.lineCount);
  }

  /** Lines not yet sent to the live feed, per step (and marks them sent). */
  takeFeedLines(maxPerStep = 100): FeedBatch[] {
    const out: FeedBatch[] = [];
    for (const step of this.#steps) {
      const offset = step.lineCount - step.lines.length;
      while (step.feedFrom < step.lineCount && !step.logUploaded) {
        const from = step.feedFrom;
        const lines = step.lines
          .slice(from - offset, Math.min(step.lineCount, from + maxPerStep) - offset)
          .map((l) => l.slice(l.indexOf(" ") + 1));
        if (lines.length === 0) break;
        out.push({ stepExternalId: step.externalId, startLine: from + 1, lines });
        step.feedFrom = from + lines.length;
      }
    }
    return out;
  }

  /** Logs ready to upload: finished steps' logs, then the job's once the job is done. */
  pendingLogs(): PendingLog[] {
    const out: PendingLog[] = [];
    for (const [index, step] of this.#steps.entries()) {
      if (step.status !== "completed" || step.logUploaded) continue;
      out.push({
        kind: "step",
        index,
        externalId: step.externalId,
        content: joinLines(step.lines),
        lineCount: step.lineCount,
        summary: step.summary,
      });
    }
    if (this.done && !this.#jobLogUploaded) {
      out.push({ kind: "job", content: joinLines(this.#jobLines), lineCount: this.#jobLineCount });
    }
    return out;
  }

  /** The log was uploaded (its lines are dropped from memory). */
  markLogUploaded(log: { kind: "step"; index: number } | { kind: "job" }): void {
    if (log.kind === "job") {
      this.#jobLogUploaded = true;
      this.#jobLines.length = 0;
      return;
    }
    const step = this.#steps[log.index];
    if (step === undefined) return;
    step.logUploaded = true;
    step.lines = [];
    step.summary = undefined;
    step.feedFrom = step.lineCount;
  }

  /** Whether every log is uploaded (after the job is done). */
  get logsUploaded(): boolean {
    return (
      this.done && this.#jobLogUploaded && this.#steps.every((s) => s.logUploaded || s.status !== "completed")
    );
  }

  /** Every annotation, in step order. */
  annotations(): RunServiceAnnotation[] {
    return this.#steps.flatMap((s) => s.annotations);
  }

  /** The job's outputs, rendered from its templates once it is done. */
  outputs(): Record<string, string> {
    if (!this.done) return {};
    const steps: Record<string, StepRecord> = {};
    for (const [index, step] of this.#steps.entries()) {
      const id = this.#stepIds[index];
      if (id === undefined) continue;
      steps[id] = {
        ...(step.outputs === undefined ? {} : { outputs: step.outputs }),
        ...(step.outcome === undefined ? {} : { outcome: step.outcome, conclusion: step.outcome }),
      };
    }
    const status =
      this.#conclusion === "succeeded"
        ? "success"
        : this.#conclusion === "canceled"
          ? "cancelled"
          : "failure";
    const out: Record<string, string> = {};
    for (const [key, template] of Object.entries(this.#outputTemplates)) {
      const rendered = renderStepTemplate(template, { status, steps });
      if ("value" in rendered) out[key] = rendered.value;
    }
    return out;
  }

  /** The step results of completejob. */
  stepResults(): RunServiceStepResult[] {
    return this.#steps.map((s) => ({
      external_id: s.externalId,
      number: s.number,
      name: s.name,
      status: s.status,
      conclusion: s.conclusion ?? null,
      ...(s.startedAt === undefined ? {} : { started_at: s.startedAt.toISOString() }),
      ...(s.completedAt === undefined ? {} : { completed_at: s.completedAt.toISOString() }),
      completed_log_lines: s.lineCount,
      ...(s.annotations.length === 0 ? {} : { annotations: [...s.annotations] }),
    }));
  }

  /** The body of completejob (once done). Throws while the job runs. */
  completeJobInput(ids: { planId: string; jobId: string; billingOwnerId?: string }): CompleteJobInput {
    if (this.#conclusion === undefined) throw new Error("the job has not finished");
    return {
      planId: ids.planId,
      jobId: ids.jobId,
      conclusion: this.#conclusion,
      outputs: this.outputs(),
      stepResults: this.stepResults(),
      annotations: this.annotations(),
      ...(ids.billingOwnerId === undefined ? {} : { billingOwnerId: ids.billingOwnerId }),
    };
  }

  /**
   * The first event whose effect GitHub does not hold yet: the first event of the first step
   * whose log is not uploaded (steps run one after another, so every later event is replayed
   * with it). Job-level lines are not counted: they reach GitHub only in the job log at the end,
   * and after a restart the job log starts again (the step logs are complete).
   */
  get durableSeq(): number {
    let first = this.#appliedSeq;
    for (const step of this.#steps) {
      if (!step.logUploaded && step.firstSeq !== undefined) first = Math.min(first, step.firstSeq);
    }
    return first;
  }

  /** What the journal keeps (see {@link JobReportSnapshot}). */
  snapshot(): JobReportSnapshot {
    const replayFrom = this.durableSeq;
    // A step whose events come again is journaled as it was before them; when any does, the
    // job's end comes again too (job_finished is the last event).
    const replaying = replayFrom < this.#appliedSeq;
    return {
      appliedSeq: replayFrom,
      changeOrder: this.#changeOrder,
      conclusion: replaying ? undefined : this.#conclusion,
      reason: replaying ? undefined : this.#reason,
      startedAt: this.startedAt.toISOString(),
      completedAt: replaying ? undefined : this.#completedAt?.toISOString(),
      jobLogUploaded: this.#jobLogUploaded,
      outputTemplates: { ...this.#outputTemplates },
      stepIds: this.#steps.map((_, i) => this.#stepIds[i] ?? null),
      steps: this.#steps.map((s): StepSnapshot => {
        const durable = s.logUploaded || s.firstSeq === undefined;
        const base = {
          externalId: s.externalId,
          number: s.number,
          name: s.name,
          contextName: s.contextName,
          feedFrom: s.feedFrom,
        };
        if (durable && !(replaying && !s.logUploaded && s.status === "completed")) {
          return {
            ...base,
            status: s.status,
            conclusion: s.conclusion,
            startedAt: s.startedAt?.toISOString(),
            completedAt: s.completedAt?.toISOString(),
            lineCount: s.lineCount,
            logUploaded: s.logUploaded,
            annotations: [...s.annotations],
            outcome: s.outcome,
            outputs: s.outputs === undefined ? undefined : { ...s.outputs },
          };
        }
        // Replayed: lines, annotations and the end come again; a started step stays started
        // so that GitHub never sees it go back to pending.
        const started = s.firstSeq !== undefined && s.status !== "pending";
        return {
          ...base,
          status: started ? "inProgress" : "pending",
          conclusion: undefined,
          startedAt: started ? s.startedAt?.toISOString() : undefined,
          completedAt: undefined,
          lineCount: 0,
          logUploaded: false,
          annotations: [],
          outcome: undefined,
          outputs: undefined,
        };
      }),
    };
  }

  /** A report resumed from the journal; the job log starts again (its earlier lines are lost). */
  static fromSnapshot(snapshot: JobReportSnapshot, mask: readonly string[] = []): JobReport {
    const report = new JobReport({
      steps: snapshot.steps.map((s) => ({
        externalId: s.externalId,
        number: s.number,
        displayName: s.name,
        contextName: s.contextName,
      })),
      mask,
      stepIds: snapshot.stepIds.map((id) => id ?? undefined),
      outputTemplates: snapshot.outputTemplates,
      startedAt: new Date(snapshot.startedAt),
    });
    report.#appliedSeq = snapshot.appliedSeq;
    report.#changeOrder = snapshot.changeOrder;
    report.#conclusion = snapshot.conclusion;
    report.#reason = snapshot.reason;
    report.#completedAt = snapshot.completedAt === undefined ? undefined : new Date(snapshot.completedAt);
    report.#jobLogUploaded = snapshot.jobLogUploaded;
    for (const [i, s] of snapshot.steps.entries()) {
      const step = report.#steps[i]!;
      step.status = s.status;
      step.conclusion = s.conclusion;
      step.startedAt = s.startedAt === undefined ? undefined : new Date(s.startedAt);
      step.completedAt = s.completedAt === undefined ? undefined : new Date(s.completedAt);
      step.lineCount = s.lineCount;
      step.logUploaded = s.logUploaded;
      step.annotations = [...s.annotations];
      step.outcome = s.outcome;
      step.outputs = s.outputs === undefined ? undefined : { ...s.outputs };
      step.feedFrom = s.logUploaded ? s.lineCount : s.feedFrom;
    }
    return report;
  }

  /** When the job finished. */
  get completedAt(): Date | undefined {
    return this.#completedAt;
  }

  #addLine(step: MutableStep | undefined, text: string, time: Date): void {
    const line = `${dotnetTimestamp(time)} ${text}`;
    this.#jobLines.push(line);
    this.#jobLineCount += 1;
    if (step === undefined) return;
    if (step.status === "pending") {
      step.status = "inProgress";
      step.startedAt = time;
      this.#stepsChanged = true;
    }
    step.lines.push(line);
    step.lineCount += 1;
  }

  #step(index: number): MutableStep {
    while (this.#steps.length <= index) {
      const number = this.#steps.length + 1;
      this.#steps.push(pendingStep("", number, `Step ${number}`, undefined));
    }
    return this.#steps[index]!;
  }
}

function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** A step that has not started: nothing logged, nothing uploaded. */
function pendingStep(
  externalId: string,
  number: number,
  name: string,
  contextName: string | undefined,
): MutableStep {
  return {
    externalId,
    number,
    name,
    contextName,
    status: "pending",
    conclusion: undefined,
    startedAt: undefined,
    completedAt: undefined,
    lines: [],
    lineCount: 0,
    logUploaded: false,
    annotations: [],
    outcome: undefined,
    outputs: undefined,
    summary: undefined,
    feedFrom: 0,
    firstSeq: undefined,
  };
}
