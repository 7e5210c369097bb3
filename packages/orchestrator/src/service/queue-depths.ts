import { type JobQueue, type JobQueueDepths, type Settled, settleWithin } from "@solstice/common";

/** What one inspection of the job queues gave: the depths, or why there are none. */
export type QueueDepthsReading = Settled<JobQueueDepths>;

/** How long the fleet view and `/metrics` wait for the broker's queue depths. */
export const QUEUE_INSPECT_TIMEOUT_MS = 5_000;

/**
 * Reads the job queues' depths from the broker (the labels' queues, the original queue and the
 * dead-letter queue), never failing and never waiting past `timeoutMs`: the fleet view and
 * `/metrics` are most wanted when the broker is away or slow, and answer without the depths then.
 */
export function readQueueDepths(
  queue: Pick<JobQueue, "inspectJobQueues">,
  labels: readonly string[],
  timeoutMs = QUEUE_INSPECT_TIMEOUT_MS,
): Promise<QueueDepthsReading> {
  return settleWithin(
    queue.inspectJobQueues(labels),
    timeoutMs,
    `the broker did not answer within ${timeoutMs} ms`,
  );
}
