import type { JobEvent, JobOwner, JobQueue, ServiceLogger } from "@solstice/common";
import { JobEventEmitter } from "@solstice/vm-engine";
import { untilDatabaseAnswers } from "../persistence/database-retry.ts";
import type { JobStore } from "../persistence/job-store.ts";
import { JobEventRecorder } from "./job-event-recorder.ts";

// One job's event pipe, opened once per run of the job on this host: it reads where the job's
// event sequence stands (a job run again after a restart continues what its owner already has),
// numbers every event from there (the engine's emitter, handed to `runJob`), records each batch in
// the store, then publishes it to the job's owner. Everything this service says about a job — an
// image being fetched, the engine's events, an end reported outside the engine — goes through it.

/** What a channel needs. */
export interface JobEventChannelDeps {
  readonly store: JobStore;
  readonly queue: Pick<JobQueue, "publishEvent">;
  readonly logger?: ServiceLogger | undefined;
}

/** The job whose events flow. */
export interface JobEventSubject {
  readonly requestId: string;
  /** Who receives its events; undefined: the unrouted events queue. */
  readonly owner: JobOwner | undefined;
  /** Values masked in the lines (the request's `mask`), when known. */
  readonly mask?: readonly string[] | undefined;
}

/** An open channel. */
export interface JobEventChannel {
  /** Numbers, masks and sends the job's events (hand it to `VmEngine.runJob`). */
  readonly events: JobEventEmitter;
  /** The first publish that failed, if any (the owner sees a gap there). */
  readonly publishError: unknown;
  /** Flushes what is pending to the store and the owner; once, however often it is called. */
  close(): Promise<void>;
}

/** Opens the job's event channel (reads the next `seq` from the store once). */
export async function openJobEventChannel(
  deps: JobEventChannelDeps,
  subject: JobEventSubject,
): Promise<JobEventChannel> {
  const { logger } = deps;
  const startAt = await untilDatabaseAnswers(() => deps.store.nextEventSeq(subject.requestId));
  let publishError: unknown;
  const recorder = new JobEventRecorder({
    store: deps.store,
    publish: (event: JobEvent) => deps.queue.publishEvent(event, subject.owner),
    onStoreError: (error, what) =>
      logger?.warn({ requestId: subject.requestId, what, err: error }, "storing the job's events failed"),
    onStoreUnavailable: (error, what) =>
      logger?.warn(
        { requestId: subject.requestId, what, err: error },
        "the database does not answer: the job's events are held until it does",
      ),
    onStoreBack: (what) =>
      logger?.info(
        { requestId: subject.requestId, what },
        "the database answers again: the job's events go on",
      ),
    onPublishError: (error, event) => {
      publishError ??= error;
      logger?.error(
        { requestId: subject.requestId, seq: event.seq, type: event.type, err: error },
        "publishing a job event failed",
      );
    },
  });
  const events = new JobEventEmitter(subject.requestId, recorder.sink, {
    mask: subject.mask,
    startAt,
    ...(logger === undefined ? {} : { logger }),
  });
  let closing: Promise<void> | undefined;
  return {
    events,
    get publishError() {
      return publishError;
    },
    close() {
      closing ??= (async () => {
        await events.flush();
        await recorder.close();
      })();
      return closing;
    },
  };
}
