import {
  SPAN_ATTRIBUTES as ATTR,
  currentTraceParent,
  inSpan,
  type JobEvent,
  type JobOwner,
  type JobQueue,
  type OpenSpan,
  runWithRequestId,
  startSpan,
} from "@solstice/common";
import { type ForgejoClient, Result, type Task } from "@solstice/forgejo-protocol";
import {
  CapacitySlots,
  cancelJob,
  JobEventRouter,
  type PendingCancel,
  type RoutedJob,
} from "@solstice/runner-core";
import type { Logger } from "pino";
import { TaskTranslationError } from "../errors.ts";
import type { FetchTiming } from "../poller/task-poller.ts";
import type { ForgejoTaskJournal } from "../report/task-journal-entry.ts";
import { resultName, TaskReport, type TaskReportSnapshot } from "../report/task-report.ts";
import { TaskReporter } from "../report/task-reporter.ts";
import type { RunnerIdentity } from "../task/task-contexts.ts";
import { taskToJobRequest } from "../task/task-job-request.ts";

// The tasks this runner is running: each one's report and its reporter. A task starts when the
// poller hands it over (translate, journal, publish the job) or when the journal of a previous run
// names it (resume). Job events from the runner's durable queue reach each task through
// runner-core's JobEventRouter (in order; acknowledged only once Forgejo holds what they
// produced); slots and the cancel fallback are runner-core's too.

/** Options of {@link RunningTasks}. */
export interface RunningTasksOptions {
  readonly client: ForgejoClient;
  readonly queue: JobQueue;
  readonly journal: ForgejoTaskJournal;
  readonly logger: Logger;
  readonly runner: RunnerIdentity;
  /** This runner's owner fields (kind + instance); the task id is added per job. */
  readonly owner: Pick<JobOwner, "kind" | "instance">;
  /** Who a cancel request names, e.g. `forgejo-runner@https://codeberg.org`. */
  readonly requestedBy: string;
  readonly reportIntervalMs?: number;
  readonly flushRows?: number;
  /** After asking the orchestrator to cancel, how long to wait for the job to end. Default 120 s. */
  readonly cancelGraceMs?: number;
  /** Where checkouts fetch from instead of `<server_url>/<repository>`. */
  readonly checkoutUrl?: string;
}

/** A task as the event router sees it: its report, fed by the job's events, and its reporter. */
class TaskRun implements RoutedJob {
  readonly report: TaskReport;
  readonly reporter: TaskReporter;
  pendingCancel: PendingCancel | undefined;

  constructor(report: TaskReport, reporter: TaskReporter) {
    this.report = report;
    this.reporter = reporter;
  }

  apply(event: JobEvent): void {
    this.report.apply(event);
  }

  lost(from: number, to: number): void {
    this.report.addRunnerRow(`Solstice CI: events ${from}-${to} of this job were lost`);
  }

  changed(): void {
    if (this.report.done) this.pendingCancel?.confirmed();
    this.reporter.nudge();
  }

  waitDurable(seq: number): Promise<void> {
    return this.reporter.waitDurable(seq);
  }
}

/** The running tasks. */
export class RunningTasks {
  readonly #options: RunningTasksOptions;
  readonly #router = new JobEventRouter<TaskRun>();
  /** A slot per task, taken before it is translated and given back once it is reported. */
  readonly #slots = new CapacitySlots();

  constructor(options: RunningTasksOptions) {
    this.#options = options;
  }

  /** How many tasks run (or are being started). */
  get size(): number {
    return this.#slots.held;
  }

  /** Resolves when fewer than `capacity` tasks run. */
  whenBelow(capacity: number, signal: AbortSignal): Promise<void> {
    return this.#slots.whenBelow(capacity, signal);
  }

  /** Resumes the tasks a previous run left in the journal. */
  resume(snapshots: readonly TaskReportSnapshot[]): void {
    for (const snapshot of snapshots) {
      const report = TaskReport.fromSnapshot(snapshot);
      report.addRunnerRow("Solstice CI: the runner restarted; resuming this task's log");
      this.#track(report, this.#slots.take(), snapshot.durableSeq);
      this.#options.logger.info(
        { taskId: snapshot.taskId, requestId: snapshot.requestId, rows: snapshot.ackIndex },
        "resumed a task from the journal",
      );
    }
  }

  /**
   * Takes a task from Forgejo: translate it, journal it, publish its job. The task is the root
   * span of the job's trace (from the FetchTask call that brought it to its last report);
   * `fetch` times that call.
   */
  async start(task: Task, fetch?: FetchTiming): Promise<void> {
    // Taken synchronously, before the first await: the poller asks whether there is room at once.
    // The slot passes to the task's run, which gives it back once the task is reported.
    const release = this.#slots.take();
    const taskId = task.id.toString();
    const root = startSpan(
      "forgejo task",
      { [ATTR.taskId]: taskId },
      fetch === undefined ? {} : { startTime: fetch.startedAt },
    );
    if (fetch !== undefined) {
      root.run(() =>
        startSpan(
          "forgejo FetchTask",
          { [ATTR.taskId]: taskId, [ATTR.forgeCall]: "FetchTask" },
          { startTime: fetch.startedAt, kind: "client" },
        ).end(undefined, fetch.endedAt),
      );
    }
    try {
      await root.run(() => this.#start(task, release, root));
    } catch (error) {
      root.end(error);
      release();
      throw error;
    }
  }

  async #start(task: Task, release: () => void, root: OpenSpan): Promise<void> {
    const { logger } = this.#options;
    const taskId = task.id.toString();
    const owner: JobOwner = { ...this.#options.owner, task_id: taskId };
    let translated: Awaited<ReturnType<typeof taskToJobRequest>> | undefined;
    let failure: Error | undefined;
    try {
      translated = await inSpan("translate task", { [ATTR.taskId]: taskId }, () =>
        taskToJobRequest({
          task,
          owner,
          runner: this.#options.runner,
          ...(this.#options.checkoutUrl === undefined ? {} : { checkoutUrl: this.#options.checkoutUrl }),
        }),
      );
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    const requestId = translated?.request.request_id ?? crypto.randomUUID();
    const report = new TaskReport({ taskId: task.id, requestId, mask: translated?.mask ?? [] });
    root.setRequestId(requestId);
    root.setAttributes({ [ATTR.label]: translated?.request.runs_on ?? undefined });
    const run = root.run(() => this.#track(report, release, 0, root));
    if (translated === undefined) {
      const message =
        failure instanceof TaskTranslationError ? failure.message : `task ${taskId}: ${failure?.message}`;
      logger.warn({ taskId, err: failure }, "cannot translate the task; reporting it failed");
      for (const line of `Solstice CI cannot run this job: ${message}`.split("\n")) report.addRunnerRow(line);
      report.finish(Result.FAILURE);
      run.reporter.nudge();
      return;
    }
    const { request, translated: job } = translated;
    report.setSteps(
      (request.steps ?? []).map((step) => step.id),
      job.outputs,
    );
    for (const warning of job.warnings) report.addRunnerRow(`Solstice CI: warning: ${warning.message}`);
    if (!job.shouldRun) {
      report.addRunnerRow("Solstice CI: the job's `if` is false: skipped");
      report.finish(Result.SKIPPED);
      run.reporter.nudge();
      return;
    }
    await this.#options.journal.save(report.snapshot());
    // In the task's span, now with the request id: the publish is its child, the lines join it.
    await root.run(async () => {
      try {
        await this.#options.queue.publishJob(request);
        logger.info({ taskId, requestId, runsOn: request.runs_on, job: job.name }, "task published as a job");
      } catch (error) {
        logger.error({ taskId, requestId, err: error }, "cannot publish the job; reporting the task failed");
        report.addRunnerRow(
          `Solstice CI: cannot hand the job to an orchestrator: ${(error as Error).message}`,
        );
        report.finish(Result.FAILURE);
        run.reporter.nudge();
      }
    });
  }

  /** The job-event handler: applies the event, and resolves once it may be acknowledged. */
  async onEvent(event: JobEvent): Promise<void> {
    const outcome = await runWithRequestId(event.request_id, () => this.#router.deliver(event));
    if (outcome === "unknown-job") {
      this.#options.logger.debug(
        { requestId: event.request_id, seq: event.seq },
        "event of a job no running task owns: dropped",
      );
    }
  }

  /** Stops every reporter (shutdown); the journal keeps the tasks for the next start. */
  async stop(): Promise<void> {
    const runs = this.#router.jobs();
    await Promise.all(runs.map((run) => run.reporter.stop()));
    for (const run of runs) run.pendingCancel?.confirmed();
  }

  /** `root`: the task's span, ended once the task is reported (none for a resumed task). */
  #track(report: TaskReport, release: () => void, firstSeq = 0, root?: OpenSpan): TaskRun {
    const { logger } = this.#options;
    const key = report.requestId;
    let lastError = "";
    const reporter = new TaskReporter({
      client: this.#options.client,
      report,
      journal: this.#options.journal,
      ...(this.#options.reportIntervalMs === undefined ? {} : { intervalMs: this.#options.reportIntervalMs }),
      ...(this.#options.flushRows === undefined ? {} : { flushRows: this.#options.flushRows }),
      onCancelled: () => this.#cancel(run),
      traceParent: root === undefined ? undefined : root.run(currentTraceParent),
      onError: (error) => {
        const message = error instanceof Error ? error.message : String(error);
        // One line per distinct problem, not one per second.
        if (message !== lastError)
          logger.warn({ taskId: report.taskId.toString(), err: error }, "report failed; retrying");
        lastError = message;
      },
    });
    const run = new TaskRun(report, reporter);
    this.#router.track(key, run, firstSeq);
    reporter.start();
    void reporter.finished.then(() => {
      run.pendingCancel?.confirmed();
      this.#router.untrack(key);
      logger.info({ taskId: report.taskId.toString(), result: resultName(report.result) }, "task reported");
      root?.setAttributes({ [ATTR.conclusion]: resultName(report.result) });
      root?.end();
      release();
    });
    return run;
  }

  #cancel(run: TaskRun): void {
    const { logger, queue } = this.#options;
    const taskId = run.report.taskId.toString();
    logger.info(
      { taskId, requestId: run.report.requestId },
      "the task was cancelled in Forgejo; cancelling the job",
    );
    run.report.addRunnerRow("Solstice CI: the task was cancelled in Forgejo; stopping the job");
    run.pendingCancel = cancelJob({
      queue,
      requestId: run.report.requestId,
      reason: "cancelled in Forgejo",
      requestedBy: this.#options.requestedBy,
      ...(this.#options.cancelGraceMs === undefined ? {} : { graceMs: this.#options.cancelGraceMs }),
      onPublishError: (error) => logger.warn({ taskId, err: error }, "cannot send the cancel request"),
      onNoConfirmation: () => {
        if (run.report.done) return;
        run.report.addRunnerRow(
          "Solstice CI: no orchestrator confirmed the cancellation; reporting it cancelled",
        );
        run.report.finish(Result.CANCELLED);
        run.reporter.nudge();
      },
    });
  }
}
