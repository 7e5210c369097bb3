import {
  SPAN_ATTRIBUTES as ATTR,
  currentTraceParent,
  type JobEvent,
  type JobOwner,
  type JobQueue,
  type OpenSpan,
  runWithRequestId,
  startSpan,
} from "@solstice/common";
import {
  CapacitySlots,
  cancelJob,
  JobEventRouter,
  maskValues,
  type PendingCancel,
  type RoutedJob,
} from "@solstice/runner-core";
import type { Logger } from "pino";
import type { FetchFunction } from "../http/http-call.ts";
import {
  type AgentJobRequestMessage,
  feedStreamUrl,
  jobConnection,
  resultsEndpoint,
} from "../job/job-message.ts";
import { type GitHubJob, jobMessageToJobRequest } from "../job/job-message-translation.ts";
import type { LegacyRunnerServer } from "../legacy/legacy-runner-server.ts";
import type { GitHubJobJournal, GitHubJobJournalEntry } from "../report/job-journal-entry.ts";
import { JobReport } from "../report/job-report.ts";
import { JobReporter } from "../report/job-reporter.ts";
import { JobLockRenewer } from "../run-service/job-lock-renewer.ts";
import type { JobTokenStore } from "./job-token-store.ts";
import { type JobTransport, jobTransport, type TransportEntry } from "./job-transport.ts";

// The jobs this daemon runs, whichever runner acquired them. A job starts when a listener hands
// over an acquired job message: the first lock renewal (nothing runs before it), the
// translation, the journal and the job token, then the JobRequest to the orchestrators. Or it
// resumes from the journal after a restart. Its events (runner-core's JobEventRouter) drive its
// JobReport, which its JobReporter sends to GitHub; the lock is renewed every 60 s until
// completejob. Cancels take runner-core's path.

/** The runner that acquired a job. */
export interface JobRunner {
  readonly agentId: number;
  readonly name: string;
  /** The owner instance its job events are published under. */
  readonly instance: string;
}

/** Options of {@link RunningJobs}. */
export interface RunningJobsOptions {
  /** Told of each job started (metrics). */
  readonly onStarted?: (() => void) | undefined;
  readonly queue: Pick<JobQueue, "publishJob" | "publishCancel">;
  readonly journal: GitHubJobJournal;
  readonly tokens: JobTokenStore;
  readonly logger: Logger;
  /** Who a cancel request names, e.g. `github-runner@https://github.com/acme`. */
  readonly requestedBy: string;
  /** The runner's labels (informational in the JobRequest). */
  readonly labels: readonly string[];
  /** The label (image) jobs run on; GitHub's job message does not say which of the runner's labels matched. */
  readonly runsOn?: string;
  readonly checkoutUrl?: string;
  readonly reportIntervalMs?: number;
  readonly cancelGraceMs?: number;
  readonly fetch?: FetchFunction;
  /** The legacy (GHES) server of the runner at `serverUrl`/`poolId`: legacy jobs renew and finish there. */
  readonly legacyServer?: (serverUrl: string, poolId: number) => LegacyRunnerServer;
}

/**
 * A job handed over: journaled (a restart resumes it) and published or already reported failed.
 * `finished` resolves once completejob was accepted. (An object, not a bare promise: an async
 * function would wait for a returned promise itself.)
 */
export interface StartedJob {
  readonly finished: Promise<void>;
}

/** How many completed job ids are remembered (a redelivered job message names one of them). */
const REMEMBERED_JOBS = 1000;

/** Where a legacy job came from: its runner's tenant and pool. */
export interface LegacyJobOrigin {
  /** `.runner` serverUrl. */
  readonly serverUrl: string;
  readonly poolId: number;
}

/** A job as the event router sees it. */
class JobRun implements RoutedJob {
  pendingCancel: PendingCancel | undefined;
  cancelRequested = false;

  readonly jobId: string;
  readonly runner: JobRunner;
  readonly report: JobReport;
  readonly reporter: JobReporter;
  readonly renewer: JobLockRenewer;

  constructor(
    jobId: string,
    runner: JobRunner,
    report: JobReport,
    reporter: JobReporter,
    renewer: JobLockRenewer,
  ) {
    this.jobId = jobId;
    this.runner = runner;
    this.report = report;
    this.reporter = reporter;
    this.renewer = renewer;
  }

  apply(event: JobEvent): void {
    this.report.apply(event);
  }

  lost(from: number, to: number): void {
    this.report.addRunnerLine(`Solstice CI: events ${from}-${to} of this job were lost`);
  }

  changed(): void {
    if (this.report.done) this.pendingCancel?.confirmed();
    this.reporter.nudge();
  }

  waitDurable(seq: number): Promise<void> {
    return this.reporter.waitDurable(seq);
  }
}

interface TrackInput {
  readonly report: JobReport;
  readonly entry: Omit<GitHubJobJournalEntry, "report">;
  readonly token: string;
  readonly transport: JobTransport;
  readonly renewer: JobLockRenewer;
  readonly release: () => void;
  readonly firstSeq: number;
  /** The job's root span: its report calls are its children (none for a resumed job). */
  readonly root?: OpenSpan | undefined;
}

/** The running jobs. */
export class RunningJobs {
  readonly #options: RunningJobsOptions;
  readonly #router = new JobEventRouter<JobRun>();
  readonly #slots = new CapacitySlots();
  /** By job id (lower case: cancellations name it so). */
  readonly #byJobId = new Map<string, JobRun>();
  /** Job ids this process ran or resumed, oldest first (bounded by REMEMBERED_JOBS). */
  readonly #known = new Set<string>();

  constructor(options: RunningJobsOptions) {
    this.#options = options;
  }

  /** Jobs running or being started. */
  get size(): number {
    return this.#slots.held;
  }

  /** Resolves when fewer than `capacity` jobs run. */
  whenBelow(capacity: number, signal: AbortSignal): Promise<void> {
    return this.#slots.whenBelow(capacity, signal);
  }

  /**
   * Whether this process already runs, resumed or completed the job: a legacy job message left
   * undeleted by a crash comes again after the restart that resumed its job from the journal.
   */
  knows(jobId: string): boolean {
    return this.#known.has(jobId.toLowerCase());
  }

  /** Whether a job of this runner runs (its polls say Busy). */
  busy(agentId: number): boolean {
    return [...this.#byJobId.values()].some((run) => run.runner.agentId === agentId);
  }

  /** Resolves when every job of this runner is reported. */
  async whenIdle(agentId: number): Promise<void> {
    const runs = [...this.#byJobId.values()].filter((run) => run.runner.agentId === agentId);
    await Promise.all(runs.map((run) => run.reporter.finished));
  }

  /** The owner instances of the running jobs (their event queues must be consumed). */
  instances(): string[] {
    return [...new Set([...this.#byJobId.values()].map((run) => run.runner.instance))];
  }

  /**
   * Starts an acquired job. Resolves once the job is journaled and handed over (or reported
   * failed). Undefined when the first lock renewal failed (GitHub gives the job to another
   * runner) or when this process already knows the job ({@link knows}). `legacy`: a job of the
   * legacy flow (GHES), reported through the plan's timeline instead of the results service.
   */
  async start(
    message: AgentJobRequestMessage,
    runner: JobRunner,
    legacy?: LegacyJobOrigin,
  ): Promise<StartedJob | undefined> {
    if (this.knows(message.jobId)) {
      this.#options.logger.info(
        { jobId: message.jobId.toLowerCase() },
        "a job this runner already has (a message delivered again): not started twice",
      );
      return undefined;
    }
    const release = this.#slots.take();
    // The job's root span: its publish (and so the orchestrator's spans) is a child; it ends once
    // completejob was accepted.
    const root = startSpan("github job", { [ATTR.taskId]: message.jobId.toLowerCase() });
    try {
      const started = await root.run(() => this.#start(message, runner, release, legacy, root));
      if (started !== undefined) this.#options.onStarted?.();
      if (started === undefined) root.end();
      else
        void started.finished.then(
          () => root.end(),
          (error: unknown) => root.end(error),
        );
      return started;
    } catch (error) {
      root.end(error);
      release();
      throw error;
    }
  }

  async #start(
    message: AgentJobRequestMessage,
    runner: JobRunner,
    release: () => void,
    legacy: LegacyJobOrigin | undefined,
    root?: OpenSpan,
  ): Promise<StartedJob | undefined> {
    const { logger } = this.#options;
    const jobId = message.jobId.toLowerCase();
    const log = logger.child({ jobId, planId: message.plan.planId, runner: runner.name });
    const connection = jobConnection(message);
    const where: TransportEntry = {
      planId: message.plan.planId,
      jobId: message.jobId,
      ...(message.billingOwnerId ? { billingOwnerId: message.billingOwnerId } : {}),
      connectionUrl: connection.url,
      ...(legacy === undefined
        ? {
            ...optional("resultsEndpoint", resultsEndpoint(message)),
            ...optional("feedStreamUrl", feedStreamUrl(message)),
          }
        : {
            legacy: {
              serverUrl: legacy.serverUrl,
              poolId: legacy.poolId,
              requestId: message.requestId ?? 0,
              scopeIdentifier: message.plan.scopeIdentifier ?? "00000000-0000-0000-0000-000000000000",
              hub: message.plan.planType ?? "actions",
              timelineId: message.timeline?.id ?? message.plan.planId,
              planVersion: message.plan.version ?? 0,
              jobName: message.jobDisplayName ?? message.jobName ?? "",
            },
          }),
    };
    const transport = jobTransport(where, connection.accessToken, this.#transportDeps(log));
    const renewer = this.#renewer(transport, log);
    void renewer.start();
    if (!(await renewer.firstRenewal)) {
      log.error("the job's first lock renewal failed; abandoning it (GitHub offers it again)");
      release();
      return undefined;
    }
    const owner: JobOwner = { kind: "github", instance: runner.instance, task_id: jobId };
    let job: GitHubJob | undefined;
    let failure: Error | undefined;
    try {
      job = jobMessageToJobRequest({
        message,
        owner,
        runner: { name: runner.name },
        labels: this.#options.labels,
        ...(this.#options.runsOn === undefined ? {} : { runsOn: this.#options.runsOn }),
        ...(this.#options.checkoutUrl === undefined ? {} : { checkoutUrl: this.#options.checkoutUrl }),
      });
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    const report = new JobReport({
      steps:
        job?.steps ??
        message.steps.map((step, index) => ({
          externalId: step.id,
          number: index + 1,
          displayName: step.displayName ?? `Step ${index + 1}`,
          contextName: step.contextName ?? undefined,
        })),
      mask: job?.mask ?? maskValues([], [connection.accessToken]),
      maskPatterns: job?.maskPatterns ?? [],
      stepIds: job?.request.steps?.map((s) => s.id ?? undefined) ?? [],
      outputTemplates: job?.translated.outputs ?? {},
    });
    const requestId = job?.request.request_id ?? crypto.randomUUID();
    root?.setRequestId(requestId);
    root?.setAttributes({ [ATTR.label]: job?.request.runs_on ?? undefined });
    const entry: Omit<GitHubJobJournalEntry, "report"> = {
      taskId: jobId,
      requestId,
      runner: { ...runner },
      ...where,
      published: false,
    };
    // The token first: a journal entry without its token cannot be completed after a restart.
    await this.#options.tokens.save(jobId, connection.accessToken);
    await this.#options.journal.save({ ...entry, report: report.snapshot() });
    const run = this.#track({
      report,
      entry,
      token: connection.accessToken,
      transport,
      renewer,
      release,
      firstSeq: 0,
      root,
    });
    if (job === undefined) {
      log.warn({ err: failure }, "cannot translate the job; completing it as failed");
      for (const line of `Solstice CI cannot run this job: ${failure?.message}`.split("\n"))
        report.addRunnerLine(`##[error]${line}`);
      report.finish("failed");
      run.reporter.nudge();
      return { finished: run.reporter.finished };
    }
    for (const warning of job.translated.warnings) report.addRunnerLine(`##[warning]${warning.message}`);
    try {
      await this.#options.queue.publishJob(job.request);
      await this.#options.journal.save({ ...entry, published: true, report: report.snapshot() });
      this.#entries.set(jobId, { ...entry, published: true });
      log.info(
        { requestId, steps: job.steps.length, runsOn: job.request.runs_on },
        "job handed to the orchestrators",
      );
    } catch (error) {
      log.error({ err: error }, "cannot publish the job; completing it as failed");
      report.addRunnerLine(
        `##[error]Solstice CI: cannot hand the job to an orchestrator: ${(error as Error).message}`,
      );
      report.finish("failed");
      run.reporter.nudge();
    }
    return { finished: run.reporter.finished };
  }

  /** The last journal fields of each job (the reporter saves snapshots with them). */
  readonly #entries = new Map<string, Omit<GitHubJobJournalEntry, "report">>();

  /** Resumes the jobs of a previous run from the journal. */
  async resume(entries: readonly GitHubJobJournalEntry[]): Promise<void> {
    const { logger, tokens, journal } = this.#options;
    for (const entry of entries) {
      const log = logger.child({ jobId: entry.jobId, planId: entry.planId, runner: entry.runner.name });
      const token = await tokens.load(entry.taskId);
      if (token === undefined) {
        log.error("a journaled job has no stored job token; it cannot be completed and is dropped");
        await journal.remove(entry.taskId);
        continue;
      }
      const { report: snapshot, ...fields } = entry;
      const report = JobReport.fromSnapshot(snapshot, maskValues([], [token]));
      let transport: JobTransport;
      try {
        transport = jobTransport(fields, token, this.#transportDeps(log));
      } catch (error) {
        log.error({ err: error }, "a journaled job cannot be resumed here; it is dropped");
        await journal.remove(entry.taskId);
        continue;
      }
      const renewer = this.#renewer(transport, log);
      void renewer.start();
      const run = this.#track({
        report,
        entry: fields,
        token,
        transport,
        renewer,
        release: this.#slots.take(),
        firstSeq: snapshot.appliedSeq,
      });
      if (!entry.published) {
        report.addRunnerLine(
          "##[error]Solstice CI: the runner restarted before the job reached an orchestrator",
        );
        report.finish("failed");
        run.reporter.nudge();
      } else {
        report.addRunnerLine(
          "Solstice CI: the runner restarted; resuming this job's report (the job log starts here, the step logs are whole)",
        );
      }
      log.info(
        { requestId: entry.requestId, fromSeq: snapshot.appliedSeq },
        "resumed a job from the journal",
      );
    }
  }

  /** A JobCancellation of GitHub: cancel the job in the orchestrator. */
  cancel(jobId: string, reason = "cancelled on GitHub"): boolean {
    const run = this.#byJobId.get(jobId.toLowerCase());
    if (run === undefined) return false;
    this.#cancel(run, reason);
    return true;
  }

  /** The job-event handler: resolves once the event may be acknowledged. */
  async onEvent(event: JobEvent): Promise<void> {
    // In the job's context: whatever is logged while handling it carries its request_id.
    const outcome = await runWithRequestId(event.request_id, () => this.#router.deliver(event));
    if (outcome === "unknown-job") {
      this.#options.logger.debug(
        { requestId: event.request_id, seq: event.seq },
        "event of no running job: dropped",
      );
    }
  }

  /** Stops every reporter and renewer (shutdown); the journal keeps the jobs for the next start. */
  async stop(): Promise<void> {
    const runs = this.#router.jobs();
    await Promise.all(
      runs.map(async (run) => {
        await run.reporter.stop();
        await run.renewer.stop();
        run.pendingCancel?.confirmed();
      }),
    );
  }

  #transportDeps(log: Logger) {
    return {
      log,
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
      ...(this.#options.legacyServer === undefined ? {} : { legacyServer: this.#options.legacyServer }),
    };
  }

  #renewer(transport: JobTransport, log: Logger) {
    return new JobLockRenewer({
      renew: transport.renew,
      onError: (error, errors) => log.warn({ err: error, errors }, "cannot renew the job's lock; retrying"),
    });
  }

  #track(input: TrackInput): JobRun {
    const { logger, journal, tokens } = this.#options;
    const { report, entry, transport } = input;
    const log = logger.child({ jobId: entry.jobId, requestId: entry.requestId });
    const jobId = entry.taskId;
    this.#entries.set(jobId, entry);
    this.#remember(jobId);
    const ids = {
      planId: entry.planId,
      jobId: entry.jobId,
      ...(entry.billingOwnerId === undefined ? {} : { billingOwnerId: entry.billingOwnerId }),
    };
    let lastError = "";
    const reporter = new JobReporter({
      report,
      results: transport.results,
      feed: transport.feed,
      completeJob: transport.completeJob,
      ids,
      save: (snapshot) => journal.save({ ...(this.#entries.get(jobId) ?? entry), report: snapshot }),
      remove: async () => {
        await journal.remove(jobId);
        await tokens.remove(jobId);
      },
      ...(this.#options.reportIntervalMs === undefined ? {} : { intervalMs: this.#options.reportIntervalMs }),
      onError: (error) => {
        const message = error instanceof Error ? error.message : String(error);
        // One line per distinct problem, not one per round.
        if (message !== lastError) log.warn({ err: error }, "report failed; retrying");
        lastError = message;
      },
      onGiveUp: (error) =>
        log.error({ err: error }, "completejob refused for good: GitHub no longer has this job"),
      traceParent: input.root?.run(currentTraceParent),
    });
    const run = new JobRun(jobId, entry.runner, report, reporter, input.renewer);
    this.#byJobId.set(jobId, run);
    this.#router.track(entry.requestId, run, input.firstSeq);
    reporter.start();
    void input.renewer.start().then((end) => {
      if (end === "job-not-found" || end === "lock-expired") {
        if (reporter.completed) return;
        log.warn({ end }, "GitHub no longer holds the job's lock; cancelling the job");
        this.#cancel(run, "the job's lock was lost on GitHub");
      }
    });
    void reporter.finished.then(async () => {
      await input.renewer.stop();
      run.pendingCancel?.confirmed();
      this.#router.untrack(entry.requestId);
      this.#byJobId.delete(jobId);
      this.#entries.delete(jobId);
      log.info({ conclusion: report.conclusion }, "job completed on GitHub");
      input.release();
    });
    return run;
  }

  #remember(jobId: string): void {
    this.#known.delete(jobId);
    this.#known.add(jobId);
    for (const old of this.#known) {
      if (this.#known.size <= REMEMBERED_JOBS) break;
      this.#known.delete(old);
    }
  }

  #cancel(run: JobRun, reason: string): void {
    if (run.cancelRequested) return;
    run.cancelRequested = true;
    const { logger, queue } = this.#options;
    const requestId = this.#entries.get(run.jobId)?.requestId ?? "";
    logger.info({ jobId: run.jobId, requestId, reason }, "cancelling the job");
    run.report.addRunnerLine(`Solstice CI: ${reason}; stopping the job`);
    run.pendingCancel = cancelJob({
      queue,
      requestId,
      reason,
      requestedBy: this.#options.requestedBy,
      ...(this.#options.cancelGraceMs === undefined ? {} : { graceMs: this.#options.cancelGraceMs }),
      onPublishError: (error) =>
        logger.warn({ jobId: run.jobId, err: error }, "cannot send the cancel request"),
      onNoConfirmation: () => {
        if (run.report.done) return;
        run.report.addRunnerLine(
          "Solstice CI: no orchestrator confirmed the cancellation; reporting it canceled",
        );
        run.report.finish("canceled");
        run.reporter.nudge();
      },
    });
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined || value === "" ? {} : { [key]: value }) as { [P in K]?: string };
}
