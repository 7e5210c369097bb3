import type { JobConclusion, JobOwner } from "@solstice/common";
import { untilDatabaseAnswers } from "../persistence/database-retry.ts";
import type { JobOwnerRecord } from "../persistence/job-records.ts";
import type { FinishOutcome } from "../persistence/job-store.ts";
import {
  type JobEventChannel,
  type JobEventChannelDeps,
  type JobEventSubject,
  openJobEventChannel,
} from "./job-event-channel.ts";

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
  deps: JobEventChannelDeps,
  subject: JobEventSubject,
  end: JobEnd,
): Promise<FinishOutcome> {
  const channel = await openJobEventChannel(deps, subject);
  return endJobOn(channel, deps, subject.requestId, end);
}

/**
 * Ends a job on its open channel: the lines, `job_finished`, the channel closed; then, only if
 * the owner got everything, the job recorded `finished` (else this rejects and it stays open).
 * The reason is stored as the owner got it: masked by the channel (secrets, URL credentials).
 */
export async function endJobOn(
  channel: JobEventChannel,
  deps: Pick<JobEventChannelDeps, "store">,
  requestId: string,
  end: JobEnd,
): Promise<FinishOutcome> {
  for (const line of end.lines ?? []) channel.events.system(line);
  channel.events.jobFinished(end.conclusion, end.reason);
  await channel.close();
  const failure = channel.publishError;
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  const reason = channel.events.mask(end.reason);
  return untilDatabaseAnswers(() => deps.store.finish(requestId, end.conclusion, reason));
}
