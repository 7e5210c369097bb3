import type { JobQueue, JobQueueDepths } from "@solstice/common";

/** What one inspection of the job queues gave: the depths, or why there are none. */
export type QueueDepthsReading =
  | { readonly depths: JobQueueDepths; readonly error?: undefined }
  | { readonly depths?: undefined; readonly error: string };

/**
 * Reads the job queues' depths from the broker (the labels' queues, the original queue and the
 * dead-letter queue), never failing and never waiting past `timeoutMs`: the fleet view and
 * `/metrics` are most wanted when the broker is away or slow, and answer without the depths then.
 */
export async function readQueueDepths(
  queue: Pick<JobQueue, "inspectJobQueues">,
  labels: readonly string[],
  timeoutMs: number,
): Promise<QueueDepthsReading> {
  try {
    return { depths: await withTimeout(queue.inspectJobQueues(labels), timeoutMs) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the broker did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
