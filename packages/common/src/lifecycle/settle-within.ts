/** How a bounded wait ended: the value, or a message for people (the error's, or `late`). */
export type Settled<T> =
  | { readonly value: T; readonly error?: undefined }
  | { readonly value?: undefined; readonly error: string };

/**
 * Waits for `work` at most `timeoutMs`, never rejecting: for answers that must come even when a
 * dependency hangs (a dead broker connection may never answer) — readiness checks, queue depths.
 *
 * @example
 *   await settleWithin(queue.inspectJobQueues(labels), 5000, "the broker did not answer within 5000 ms");
 */
export async function settleWithin<T>(
  work: Promise<T>,
  timeoutMs: number,
  late: string,
): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ error: late }), timeoutMs);
  });
  try {
    return await Promise.race([
      work.then(
        (value): Settled<T> => ({ value }),
        (err: unknown): Settled<T> => ({ error: err instanceof Error ? err.message : String(err) }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
