import {
  EventReorderer,
  type JobEvent,
  type JobOwner,
  type JobQueue,
  newCancelRequest,
} from "@solstice/common";
import { type ForgejoClient, Result, type Task } from "@solstice/forgejo-protocol";
import type { Logger } from "pino";
import { TaskTranslationError } from "../errors.ts";
import type { TaskJournal } from "../report/task-journal.ts";
import { resultName, TaskReport, type TaskReportSnapshot } from "../report/task-report.ts";
import { TaskReporter } from "../report/task-reporter.ts";
import type { RunnerIdentity } from "../task/task-contexts.ts";
import { taskToJobRequest } from "../task/task-job-request.ts";

// The tasks this runner is running: each one's report, its reporter, and the order of its job's
// events. A task starts when the poller hands it over (translate, journal, publish the job) or
// when the journal of a previous run names it (resume). Job events from the runner's durable
// queue are routed here by request id; an event is acknowledged to the queue only once Forgejo
// holds what it produced.

/** Options of {@link RunningTasks}. */
export interface RunningTasksOptions {
  readonly client: ForgejoClient;
  readonly queue: JobQueue;
  readonly journal: TaskJournal;
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

interface TaskRun {
  readonly report: TaskReport;
  readonly reporter: TaskReporter;
  reorderer: EventReorderer;
  cancelTimer?: NodeJS.Timeout;
}

/** The running tasks. */
export class RunningTasks {
  readonly #options: RunningTasksOptions;
  readonly #runs = new Map<string, TaskRun>();
  /** Tasks taken but not tracked yet (being translated): they hold a slot too. */
  #starting = 0;
  #slotWaiters: (() => void)[] = [];

  constructor(options: RunningTasksOptions) {
    this.#options = options;
  }

  /** How many tasks run (or are being started). */
  get size(): number {
    return this.#runs.size + this.#starting;
  }

  /** Resolves when fewer than `capacity` tasks run. */
  async whenBelow(capacity: number, signal: AbortSignal): Promise<void> {
    while (this.size >= capacity && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener("abort", done);
          resolve();
        };
        this.#slotWaiters.push(done);
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  /** Resumes the tasks a previous run left in the journal. */
  resume(snapshots: readonly TaskReportSnapshot[]): void {
    for (const snapshot of snapshots) {
      const report = TaskReport.fromSnapshot(snapshot);
      report.addRunnerRow("Solstice CI: the runner restarted; resuming this task's log");
      this.#track(report, new EventReorderer({ firstSeq: snapshot.durableSeq }));
      this.#options.logger.info(
        { taskId: snapshot.taskId, requestId: snapshot.requestId, rows: snapshot.ackIndex },
        "resumed a task from the journal",
      );
    }
  }

  /** Takes a task from Forgejo: translate it, journal it, publish its job. */
  async start(task: Task): Promise<void> {
    // Taken synchronously, before the first await: the poller asks whether there is room at once.
    this.#starting += 1;
    try {
      await this.#start(task);
    } finally {
      this.#starting -= 1;
      // Waiters re-check the count: waking them for nothing is harmless.
      for (const wake of this.#slotWaiters.splice(0)) wake();
    }
  }

  async #start(task: Task): Promise<void> {
    const { logger } = this.#options;
    const taskId = task.id.toString();
    const owner: JobOwner = { ...this.#options.owner, task_id: taskId };
    let translated: Awaited<ReturnType<typeof taskToJobRequest>> | undefined;
    let failure: Error | undefined;
    try {
      translated = await taskToJobRequest({
        task,
        owner,
        runner: this.#options.runner,
        ...(this.#options.checkoutUrl === undefined ? {} : { checkoutUrl: this.#options.checkoutUrl }),
      });
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    const requestId = translated?.request.request_id ?? crypto.randomUUID();
    const report = new TaskReport({ taskId: task.id, requestId, mask: translated?.mask ?? [] });
    const run = this.#track(report, new EventReorderer());
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
    try {
      await this.#options.queue.publishJob(request);
      logger.info({ taskId, requestId, runsOn: request.runs_on, job: job.name }, "task published as a job");
    } catch (error) {
      logger.error({ taskId, requestId, err: error }, "cannot publish the job; reporting the task failed");
      report.addRunnerRow(`Solstice CI: cannot hand the job to an orchestrator: ${(error as Error).message}`);
      report.finish(Result.FAILURE);
      run.reporter.nudge();
    }
  }

  /** The job-event handler: applies the event, and resolves once it may be acknowledged. */
  async onEvent(event: JobEvent): Promise<void> {
    const run = this.#runs.get(event.request_id);
    if (run === undefined) {
      this.#options.logger.debug(
        { requestId: event.request_id, seq: event.seq },
        "event of a job no running task owns: dropped",
      );
      return;
    }
    const out = run.reorderer.push(event);
    for (const next of out.events) run.report.apply(next);
    for (const gap of out.skipped) {
      run.report.addRunnerRow(`Solstice CI: events ${gap.from}-${gap.to} of this job were lost`);
    }
    if (run.report.done && run.cancelTimer !== undefined) clearTimeout(run.cancelTimer);
    run.reporter.nudge();
    if (out.duplicates.length > 0) return;
    await run.reporter.waitDurable(event.seq);
  }

  /** Stops every reporter (shutdown); the journal keeps the tasks for the next start. */
  async stop(): Promise<void> {
    await Promise.all([...this.#runs.values()].map((run) => run.reporter.stop()));
    for (const run of this.#runs.values()) if (run.cancelTimer !== undefined) clearTimeout(run.cancelTimer);
  }

  #track(report: TaskReport, reorderer: EventReorderer): TaskRun {
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
      onError: (error) => {
        const message = error instanceof Error ? error.message : String(error);
        // One line per distinct problem, not one per second.
        if (message !== lastError)
          logger.warn({ taskId: report.taskId.toString(), err: error }, "report failed; retrying");
        lastError = message;
      },
    });
    const run: TaskRun = { report, reporter, reorderer };
    this.#runs.set(key, run);
    reporter.start();
    void reporter.finished.then(() => {
      if (run.cancelTimer !== undefined) clearTimeout(run.cancelTimer);
      this.#runs.delete(key);
      logger.info({ taskId: report.taskId.toString(), result: resultName(report.result) }, "task reported");
      for (const wake of this.#slotWaiters.splice(0)) wake();
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
    void queue
      .publishCancel(
        newCancelRequest({
          request_id: run.report.requestId,
          reason: "cancelled in Forgejo",
          requested_by: this.#options.requestedBy,
        }),
      )
      .catch((error: unknown) => logger.warn({ taskId, err: error }, "cannot send the cancel request"));
    // If no orchestrator answers (the job is still queued, or its host is gone), end it here.
    run.cancelTimer = setTimeout(() => {
      if (run.report.done) return;
      run.report.addRunnerRow(
        "Solstice CI: no orchestrator confirmed the cancellation; reporting it cancelled",
      );
      run.report.finish(Result.CANCELLED);
      run.reporter.nudge();
    }, this.#options.cancelGraceMs ?? 120_000);
  }
}
