import { inSpan, SPAN_ATTRIBUTES, type TraceParent } from "@solstice/common";
import type { CompleteJobInput } from "../run-service/run-service-api.ts";
import { isFinalCompleteError } from "../run-service/run-service-api.ts";
import type { JobReport, JobReportSnapshot, PendingLog } from "./job-report.ts";
import type { LiveFeed } from "./live-feed.ts";
import { planReport, type ReportAction } from "./report-plan.ts";
import type { ResultsClient } from "./results-client.ts";

// Sends one job's report to GitHub at an interval (sooner when nudged): the rounds planned by
// report-plan.ts. After each round the journal is saved when more of the job became durable on
// GitHub (a step's log uploaded), and the events that produced it are released (the event
// queue acknowledges them); the last ones only once completejob was accepted. It is also saved
// before each batch of live lines, for how far each step was fed.

/**
 * Between report rounds, by default: the reference runner's cadence for live console lines and
 * step records (500 ms). A round with nothing to send makes no call.
 */
export const DEFAULT_REPORT_INTERVAL_MS = 500;

/** Options of {@link JobReporter}. */
export interface JobReporterOptions {
  readonly report: JobReport;
  /** Undefined when the job message names no results service (nothing to upload to). */
  readonly results:
    | Pick<ResultsClient, "updateSteps" | "uploadStepLog" | "uploadStepSummary" | "uploadJobLog">
    | undefined;
  readonly feed: Pick<LiveFeed, "send" | "close"> | undefined;
  /** One completejob call. */
  readonly completeJob: (input: CompleteJobInput) => Promise<void>;
  readonly ids: { readonly planId: string; readonly jobId: string; readonly billingOwnerId?: string };
  /** Saves the journal entry with this snapshot. */
  readonly save: (snapshot: JobReportSnapshot) => Promise<void>;
  /** Deletes the journal entry (and the job token): the job is complete. */
  readonly remove: () => Promise<void>;
  /** Between rounds. Default {@link DEFAULT_REPORT_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Retried anyway; for logs. */
  readonly onError?: (error: unknown) => void;
  /** completejob was refused for good (401/404): the job is gone on GitHub. */
  readonly onGiveUp?: (error: unknown) => void;
  /**
   * The job's span: each report call (steps update, live lines, log upload, completejob) is a
   * child span of it. Undefined: report calls are not traced (a job resumed after a restart).
   */
  readonly traceParent?: TraceParent | undefined;
}

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
}

/** Reports a job until completejob is accepted. */
export class JobReporter {
  readonly report: JobReport;
  readonly #options: JobReporterOptions;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #completed = false;
  /** completejob accepted and the journal entry removed. */
  #ended = false;
  #savedSeq: number;
  #waiters: Waiter[] = [];
  readonly #finished: Promise<void>;
  #resolveFinished!: () => void;

  constructor(options: JobReporterOptions) {
    this.#options = options;
    this.report = options.report;
    this.#intervalMs = options.intervalMs ?? DEFAULT_REPORT_INTERVAL_MS;
    this.#savedSeq = options.report.durableSeq;
    this.#finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  /** Resolves once completejob was accepted (or given up). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  get completed(): boolean {
    return this.#completed;
  }

  /** Starts reporting (the first round at once). */
  start(): void {
    this.#schedule(0);
  }

  /** Something changed: report now when a step or the job ended, else at the next interval. */
  nudge(): void {
    if (this.report.done || this.report.pendingLogs().length > 0) this.#schedule(0);
  }

  /**
   * Resolves when event `seq` is durable (what it produced is on GitHub and journaled); never
   * settles once the reporter stopped (the event goes back to the queue with the connection).
   */
  waitDurable(seq: number): Promise<void> {
    if (seq < this.#savedSeq || this.#completed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /** Stops reporting (shutdown); the journal keeps the job for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#ticking;
    this.#options.feed?.close();
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || this.#ended) return;
    if (this.#ticking !== undefined) {
      if (delayMs === 0) this.#again = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#ticking = this.#round().finally(() => {
        this.#ticking = undefined;
        const again = this.#again;
        this.#again = false;
        if (!this.#stopped && !this.#ended) this.#schedule(again ? 0 : this.#intervalMs);
      });
    }, delayMs);
  }

  async #round(): Promise<void> {
    const report = this.report;
    try {
      const actions = planReport({
        stepsChanged: report.stepsChanged,
        pendingStepLogs: report.pendingLogs().flatMap((log) => (log.kind === "step" ? [log.index] : [])),
        done: report.done,
        jobLogUploaded: report.pendingLogs().every((log) => log.kind !== "job") && report.done,
        completed: this.#completed,
        // Also once the job is done: its last lines often arrive with job_finished, and a
        // step's unfed lines are dropped from the feed once its log is uploaded.
        feeding: this.#options.feed !== undefined && report.hasUnfedLines,
      });
      for (const action of actions) await this.#traced(action);
      if (this.#completed) {
        await this.#options.remove();
        this.#options.feed?.close();
        this.#release(true);
        this.#ended = true;
        this.#resolveFinished();
        return;
      }
      if (report.durableSeq > this.#savedSeq) await this.#journal();
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  /** One span per report call, when the job has a span (docs/telemetry.md). */
  #traced(action: ReportAction): Promise<void> {
    const parent = this.#options.traceParent;
    if (parent === undefined) return this.#perform(action);
    return inSpan(
      `github ${action.kind}`,
      { [SPAN_ATTRIBUTES.forgeCall]: action.kind },
      () => this.#perform(action),
      {
        parent,
        kind: "client",
      },
    );
  }

  async #perform(action: ReportAction): Promise<void> {
    const { results, feed } = this.#options;
    const report = this.report;
    switch (action.kind) {
      case "steps-update": {
        if (results === undefined) {
          report.takeStepsUpdate();
          return;
        }
        const update = report.takeStepsUpdate();
        try {
          await results.updateSteps(update.changeOrder, update.steps);
        } catch (error) {
          report.stepsUpdateFailed();
          throw error;
        }
        return;
      }
      case "feed": {
        if (feed === undefined) return;
        const batches = report.takeFeedLines();
        if (batches.length === 0) return;
        // How far each step was fed is journaled before the lines go: a kill -9 mid-send then
        // costs the live view at most this batch (the step logs hold every line) and no line is
        // fed twice after the restart. The feed has no acknowledgement, so it is one or the other.
        try {
          await this.#journal();
        } catch (error) {
          // Feed anyway: a line shown twice after a crash beats lines never shown.
          this.#options.onError?.(error);
        }
        await feed.send(batches);
        return;
      }
      case "upload-step-log": {
        const log = report
          .pendingLogs()
          .find((l): l is PendingLog & { kind: "step" } => l.kind === "step" && l.index === action.index);
        if (log === undefined) return;
        if (results !== undefined && log.externalId !== "") {
          if (log.summary !== undefined) {
            const refused = await results.uploadStepSummary(log.externalId, log.summary);
            if (refused !== undefined) this.#options.onError?.(refused);
          }
          await results.uploadStepLog(log.externalId, log.content, log.lineCount);
        }
        report.markLogUploaded({ kind: "step", index: log.index });
        return;
      }
      case "upload-job-log": {
        const log = report.pendingLogs().find((l) => l.kind === "job");
        if (log === undefined) return;
        if (results !== undefined) await results.uploadJobLog(log.content, log.lineCount);
        report.markLogUploaded({ kind: "job" });
        return;
      }
      case "complete-job":
        try {
          await this.#options.completeJob(report.completeJobInput(this.#options.ids));
        } catch (error) {
          if (!isFinalCompleteError(error)) throw error;
          this.#options.onGiveUp?.(error);
        }
        this.#completed = true;
        return;
    }
  }

  /** Saves the journal entry; releases the events whose results became durable. */
  async #journal(): Promise<void> {
    const durable = this.report.durableSeq;
    await this.#options.save(this.report.snapshot());
    if (durable > this.#savedSeq) {
      this.#savedSeq = durable;
      this.#release(false);
    }
  }

  #release(all: boolean): void {
    const keep: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (all || waiter.seq < this.#savedSeq) waiter.resolve();
      else keep.push(waiter);
    }
    this.#waiters = keep;
  }
}
