import {
  SPAN_ATTRIBUTES as ATTR,
  type ImageEntry,
  inSpan,
  type JobQueue,
  type JobRequest,
  type OpenSpan,
  type ServiceLogger,
  startSpan,
  stripUrlCredentials,
} from "@solstice/common";
import type { KeepVmContext, VmEngine } from "@solstice/vm-engine";
import { ensureImage as fetchImage, formatProgress, isImagePresent, vmNameFor } from "@solstice/vm-engine";
import { JobStateError } from "../errors.ts";
import type { OrchestratorMetrics } from "../http/orchestrator-metrics.ts";
import { untilDatabaseAnswers } from "../persistence/database-retry.ts";
import type { JobStore } from "../persistence/job-store.ts";
import type { CapacityScheduler, Schedulable } from "../scheduling/capacity-scheduler.ts";
import { AdmissionGate } from "./admission-gate.ts";
import { endJobOn, reportJobEnd } from "./job-end-report.ts";
import { openJobEventChannel } from "./job-event-channel.ts";
import { vmRecordHook } from "./vm-record-hook.ts";

/** A job accepted on this host, waiting for capacity or running. */
export interface QueuedJob extends Schedulable {
  readonly request: JobRequest;
  /** The resolved (canonical) label. */
  readonly label: string;
  readonly image: ImageEntry;
  /** 1 for the first run; more when requeued after a restart (names the VM apart). */
  readonly attempt: number;
}

/** What a cancel found. */
export type CancelOutcome = "running" | "queued" | "unknown";

/** Settings of a {@link JobRunner}. */
export interface JobRunnerOptions {
  readonly engine: Pick<VmEngine, "runJob">;
  readonly store: JobStore;
  readonly queue: Pick<JobQueue, "publishEvent">;
  readonly scheduler: CapacityScheduler<QueuedJob>;
  readonly hostId: string;
  readonly metrics: OrchestratorMetrics;
  readonly logger: ServiceLogger;
  /** The engine's `keepVm` hook (debug SSH). */
  readonly keepVm?: ((context: KeepVmContext) => boolean | Promise<boolean>) | undefined;
  /** Jobs accepted beyond those that can start at once (see AdmissionGate). Default 1. */
  readonly intakeBuffer?: number | undefined;
  /**
   * The longest a job may run here, boot included (JOB_TIMEOUT_SECS); then it fails and its VM
   * is destroyed. A request's shorter `timeout_seconds` wins. Default: no limit but the request's.
   */
  readonly jobTimeoutSecs?: number | undefined;
  /** Makes sure the base image is on disk (fetching it); default `ensureImage`. */
  readonly ensureImage?:
    | ((
        image: ImageEntry,
        onProgress: (line: string) => void,
        onBytes?: (bytes: number) => void,
      ) => Promise<void>)
    | undefined;
}

/** A job's spans while it is on this host: the whole job, and its wait for capacity. */
interface JobSpans {
  readonly job: OpenSpan;
  readonly wait: OpenSpan;
}

interface RunningJob {
  readonly job: QueuedJob;
  readonly controller: AbortController;
}

/** Most cancel requests for unknown jobs remembered (a cancel may overtake its job). */
const EARLY_CANCELS = 1_000;

/**
 * The scheduler loop: jobs wait in the CapacityScheduler and start as capacity frees; each runs
 * in the VM engine with its own AbortController (cancel), its events going through a
 * JobEventRecorder to the store and the job's owner, its VM recorded as it lives, its end recorded
 * and measured.
 *
 * @example
 *   const runner = new JobRunner({ engine, store, queue, scheduler, hostId, metrics, logger });
 *   runner.enqueue({ request, label, image, attempt: 1 });
 *   await runner.cancel(request.request_id, "wrong commit");
 */
export class JobRunner {
  readonly gate: AdmissionGate;
  readonly #options: JobRunnerOptions;
  readonly #running = new Map<string, RunningJob>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #earlyCancels = new Map<string, string>();
  readonly #spans = new Map<string, JobSpans>();
  #idleWaiters: (() => void)[] = [];

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.gate = new AdmissionGate(options.scheduler, { buffer: options.intakeBuffer ?? 1 });
  }

  /** Jobs running now (VM provisioning or steps). */
  get running(): number {
    return this.#running.size;
  }

  /** Jobs waiting for capacity. */
  get queued(): number {
    return this.#options.scheduler.queued;
  }

  /** The request ids of the jobs running now. */
  runningIds(): string[] {
    return [...this.#running.keys()];
  }

  /**
   * A cancel request for a job this host has not seen (yet): if the job arrives later, it is
   * reported cancelled instead of run.
   */
  rememberCancel(requestId: string, reason: string): void {
    this.#earlyCancels.set(requestId, reason);
    if (this.#earlyCancels.size > EARLY_CANCELS) {
      const oldest = this.#earlyCancels.keys().next();
      if (!oldest.done) this.#earlyCancels.delete(oldest.value);
    }
  }

  /** A cancel that arrived before the job (consumed: asked once per job). */
  takeEarlyCancel(requestId: string): string | undefined {
    const reason = this.#earlyCancels.get(requestId);
    this.#earlyCancels.delete(requestId);
    return reason;
  }

  /** Queues an accepted job; it starts as soon as capacity allows. */
  enqueue(job: QueuedJob): void {
    // Opened in the intake's context (the `process` span of the JobRequest): the job's trace
    // goes on across the wait, whatever context later starts it.
    this.#openSpans(job);
    this.#options.scheduler.enqueue(job);
    this.#pump();
  }

  /**
   * Cancels a job of this host: a running one is aborted (the engine kills the step, stops the VM
   * and reports it cancelled); a queued one is removed and reported cancelled here.
   */
  async cancel(requestId: string, reason: string): Promise<CancelOutcome> {
    const running = this.#running.get(requestId);
    if (running !== undefined) {
      if (!running.controller.signal.aborted) running.controller.abort(new Error(reason));
      return "running";
    }
    const [queued] = this.#options.scheduler.remove((j) => j.request.request_id === requestId);
    if (queued === undefined) return "unknown";
    this.#closeSpans(requestId, "cancelled while queued");
    this.gate.changed();
    await this.#reportEnd(queued.request, {
      conclusion: "cancelled",
      reason,
      lines: [`Job cancelled: ${reason}`],
    });
    return "queued";
  }

  /** Aborts every running job and cancels every queued one (end of a drain). */
  async cancelAll(reason: string): Promise<void> {
    const queued = this.#options.scheduler.drain();
    for (const job of queued) this.#closeSpans(job.request.request_id, "cancelled while queued");
    this.gate.changed();
    for (const { controller } of this.#running.values()) {
      if (!controller.signal.aborted) controller.abort(new Error(reason));
    }
    await Promise.all(
      queued.map((job) =>
        this.#reportEnd(job.request, {
          conclusion: "cancelled",
          reason,
          lines: [`Job cancelled: ${reason}`],
        }),
      ),
    );
  }

  /** Resolves true once nothing runs or waits, false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#idle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      // Running jobs keep the process alive; this timer alone must not (a drain cut short).
      timer.unref();
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#idleWaiters.push(wake);
    });
  }

  /** Resolves when every job task has ended (after `cancelAll`). */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  #idle(): boolean {
    return this.#running.size === 0 && this.#options.scheduler.queued === 0;
  }

  #pump(): void {
    const scheduler = this.#options.scheduler;
    for (let job = scheduler.next(); job !== undefined; job = scheduler.next()) {
      const started = job;
      const controller = new AbortController();
      this.#running.set(started.request.request_id, { job: started, controller });
      const spans = this.#spans.get(started.request.request_id);
      spans?.wait.end();
      const run = (): Promise<void> => this.#run(started, controller.signal);
      const task = (spans === undefined ? run() : spans.job.run(run)).finally(() => {
        this.#closeSpans(started.request.request_id);
        this.#running.delete(started.request.request_id);
        scheduler.release(started.label);
        this.#tasks.delete(task);
        this.gate.changed();
        this.#pump();
        if (this.#idle()) for (const wake of this.#idleWaiters.splice(0)) wake();
      });
      this.#tasks.add(task);
    }
    this.gate.changed();
  }

  #openSpans(job: QueuedJob): void {
    const requestId = job.request.request_id;
    this.#closeSpans(requestId, "queued again");
    const jobSpan = startSpan(
      "orchestrator job",
      {
        [ATTR.requestId]: requestId,
        [ATTR.label]: job.label,
        [ATTR.image]: imageForSpans(job.image.source),
        [ATTR.hostId]: this.#options.hostId,
        [ATTR.attempt]: job.attempt,
      },
      { requestId },
    );
    const wait = jobSpan.run(() => startSpan("wait for capacity", { [ATTR.label]: job.label }));
    this.#spans.set(requestId, { job: jobSpan, wait });
  }

  /** Ends a job's spans (in error when `why` is given). */
  #closeSpans(requestId: string, why?: string): void {
    const spans = this.#spans.get(requestId);
    if (spans === undefined) return;
    this.#spans.delete(requestId);
    spans.wait.end(why === undefined ? undefined : new Error(why));
    spans.job.end(why === undefined ? undefined : new Error(why));
  }

  async #run(job: QueuedJob, signal: AbortSignal): Promise<void> {
    const { store, logger, metrics } = this.#options;
    const request = job.request;
    const requestId = request.request_id;
    const owner = request.owner;
    try {
      try {
        const running = await untilDatabaseAnswers(() => store.markRunning(requestId));
        metrics.observeQueueWait({
          label: job.label,
          seconds:
            ((running.startedAt ?? running.receivedAt).getTime() - running.receivedAt.getTime()) / 1000,
        });
      } catch (error) {
        // Finished meanwhile (cancelled through another way): nothing to run.
        if (error instanceof JobStateError) {
          logger.info({ requestId, state: error.message }, "job no longer waiting; not started");
          return;
        }
        throw error;
      }
      const deps = { store, queue: this.#options.queue, logger };
      const channel = await openJobEventChannel(deps, { requestId, owner, mask: request.mask });
      try {
        // Before the VM: fetch the image when missing, with progress in the job's log.
        if (!(await isImagePresent(job.image))) {
          channel.events.system(`Fetching image ${job.label} from ${job.image.source}`);
          try {
            await inSpan(
              "image fetch",
              { [ATTR.label]: job.label, [ATTR.image]: imageForSpans(job.image.source) },
              (span) =>
                (this.#options.ensureImage ?? defaultEnsureImage)(
                  job.image,
                  (line) => channel.events.system(line),
                  (bytes) => span.setAttributes({ [ATTR.imageBytes]: bytes }),
                ),
            );
          } catch (error) {
            const why = error instanceof Error ? error.message : String(error);
            await endJobOn(channel, deps, requestId, { conclusion: "failure", reason: why, lines: [why] });
            return;
          }
        }
        const vmName = job.attempt <= 1 ? vmNameFor(requestId) : `${vmNameFor(requestId)}-${job.attempt}`;
        const result = await this.#options.engine.runJob(request, job.image, {
          events: channel.events,
          signal,
          vmName,
          timeoutSeconds: this.#options.jobTimeoutSecs,
          ...(this.#options.keepVm === undefined ? {} : { keepVm: this.#options.keepVm }),
          onVm: vmRecordHook({
            store,
            hostId: this.#options.hostId,
            requestId,
            onError: (error, name) =>
              logger.warn({ requestId, vm: name, err: error }, "recording the VM failed"),
          }),
        });
        await channel.close();
        // The owner has the job's end: record it however long the database takes to answer.
        const finished = await untilDatabaseAnswers(() =>
          store.finish(requestId, result.conclusion, result.reason ?? null),
        );
        const started = finished.job.startedAt ?? finished.job.receivedAt;
        metrics.observeJob({
          label: job.label,
          conclusion: result.conclusion,
          seconds: (Date.now() - started.getTime()) / 1000,
        });
        this.#spans.get(requestId)?.job.setAttributes({
          [ATTR.conclusion]: result.conclusion,
          [ATTR.accel]: result.vm?.accel,
        });
        if (result.bootToSshMs !== undefined)
          metrics.observeBoot({ label: job.label, seconds: result.bootToSshMs / 1000 });
        logger.info(
          { requestId, conclusion: result.conclusion, reason: result.reason, kept: result.kept },
          "job finished",
        );
      } finally {
        await channel.close();
      }
    } catch (error) {
      // Not a job failure (those end in runJob's result) but ours: a store that fails, say.
      logger.error({ requestId, err: error }, "running the job failed");
      const why = error instanceof Error ? error.message : String(error);
      await this.#reportEnd(request, {
        conclusion: "failure",
        reason: `internal error of the orchestrator: ${why}`,
        lines: [`The orchestrator could not run the job: ${why}`],
      });
    }
  }

  /** Reports a job's end outside the engine; failures are logged (recovery settles it later). */
  async #reportEnd(
    request: JobRequest,
    end: { conclusion: "success" | "failure" | "cancelled"; reason: string; lines: readonly string[] },
  ): Promise<void> {
    try {
      await reportJobEnd(
        { store: this.#options.store, queue: this.#options.queue, logger: this.#options.logger },
        { requestId: request.request_id, owner: request.owner, mask: request.mask },
        end,
      );
    } catch (error) {
      this.#options.logger.error(
        { requestId: request.request_id, err: error },
        "reporting the job's end failed; the next start settles it",
      );
    }
  }
}

/** An image's source as spans show it: without credentials or a query (a signed URL's token). */
function imageForSpans(source: string): string {
  return stripUrlCredentials(source).split("?")[0] ?? "";
}

async function defaultEnsureImage(
  image: ImageEntry,
  onProgress: (line: string) => void,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  let last = 0;
  await fetchImage(image, {
    onProgress: (progress) => {
      onBytes?.(progress.bytes);
      const now = Date.now();
      if (now - last < 10_000 && !progress.done) return;
      last = now;
      onProgress(formatProgress(progress));
    },
  });
}
