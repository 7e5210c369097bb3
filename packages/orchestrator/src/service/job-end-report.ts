import type { JobConclusion, JobEvent, JobOwner, JobQueue } from "@solstice/common";
import type { EngineLogger } from "@solstice/vm-engine";
import { JobEventEmitter } from "@solstice/vm-engine";
import type { JobOwnerRecord } from "../persistence/job-records.ts";
import type { FinishOutcome, JobStore } from "../persistence/job-store.ts";
import { JobEventRecorder } from "./job-event-recorder.ts";

/** What {@link reportJobEnd} needs. */
export interface JobEndReportDeps {
  readonly store: JobStore;
  readonly queue: Pick<JobQueue, "publishEvent">;
  readonly logger?: EngineLogger | undefined;
}

/** The job whose end is reported. */
export interface JobEndSubject {
  readonly requestId: string;
  /** Who receives its events; undefined: the unrouted events queue. */
  readonly owner: JobOwner | undefined;
  /** Values masked in the lines (the request's `mask`), when known. */
  readonly mask?: readonly string[] | undefined;
}

/** How the job ended, and the `system` lines its log gets before `job_finished`. */
export interface JobEnd {
  readonly conclusion: JobConclusion;
  readonly reason: string;
  readonly lines?: readonly string[] | undefined;
}

/** The owner as the queue routes to it, from a stored job's owner. */
export function ownerOf(record: JobOwnerRecord | null): JobOwner | undefined {
  if (record === null) return undefined;
  return {
    kind: record.kind,
    instance: record.instance,
    ...(record.taskId === null ? {} : { task_id: record.taskId }),
  };
}

/**
 * Reports the end of a job that the VM engine did not run to its end — a label this host does not
 * serve, a cancel before it started, a job left behind by a crash, an image that could not be
 * fetched: `system` lines and `job_finished` go to the owner, continuing the job's event sequence
 * (`JobStore.nextEventSeq`), then the job is recorded `finished`.
 *
 * Owner first, store second: if publishing fails this rejects and the job stays unfinished, so it
 * is reported again later (at the next start); the owner may then see the end twice, never zero
 * times.
 *
 * @example
 *   await reportJobEnd({ store, queue }, { requestId, owner }, { conclusion: "failure", reason: "no image for label \"plan9\"" });
 */
export async function reportJobEnd(
  deps: JobEndReportDeps,
  subject: JobEndSubject,
  end: JobEnd,
): Promise<FinishOutcome> {
  const startAt = await deps.store.nextEventSeq(subject.requestId);
  let publishError: unknown;
  let failed = false;
  const recorder = new JobEventRecorder({
    store: deps.store,
    publish: (event: JobEvent) => deps.queue.publishEvent(event, subject.owner),
    onPublishError: (error) => {
      failed = true;
      publishError ??= error;
    },
    onStoreError: (error, what) =>
      deps.logger?.warn({ requestId: subject.requestId, what, err: error }, "storing a job event failed"),
  });
  const events = new JobEventEmitter(subject.requestId, recorder.sink, {
    mask: subject.mask,
    startAt,
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
  });
  for (const line of end.lines ?? []) events.system(line);
  events.jobFinished(end.conclusion, end.reason);
  await events.flush();
  await recorder.close();
  if (failed) throw publishError instanceof Error ? publishError : new Error(String(publishError));
  return deps.store.finish(subject.requestId, end.conclusion, end.reason);
}
