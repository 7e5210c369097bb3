import { JobTimeoutError } from "../errors.ts";

// How long a job may run: its own timeout (the request's `timeout_seconds`) or the host's limit
// per job, whichever is shorter. Pure apart from the timer `armJobTimeout` sets.

/** setTimeout's longest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The timeout that applies to a job, and whose it is. */
export interface JobDeadline {
  readonly seconds: number;
  readonly limit: "job" | "host";
}

/**
 * The shorter of the job's own timeout and the host's limit; undefined when there is neither.
 *
 * @example
 *   jobDeadline(600, 21_600); // { seconds: 600, limit: "job" }
 *   jobDeadline(undefined, 21_600); // { seconds: 21600, limit: "host" }
 */
export function jobDeadline(
  jobSeconds: number | undefined,
  hostSeconds: number | undefined,
): JobDeadline | undefined {
  if (jobSeconds !== undefined && (hostSeconds === undefined || jobSeconds <= hostSeconds)) {
    return { seconds: jobSeconds, limit: "job" };
  }
  return hostSeconds === undefined ? undefined : { seconds: hostSeconds, limit: "host" };
}

/**
 * Aborts `controller` with a {@link JobTimeoutError} once `deadline` passes; returns the timer (to
 * clear when the job ends), or undefined when there is no deadline or it is too far to arm.
 */
export function armJobTimeout(
  controller: AbortController,
  deadline: JobDeadline | undefined,
): NodeJS.Timeout | undefined {
  if (deadline === undefined) return undefined;
  const ms = Math.round(deadline.seconds * 1000);
  if (ms > MAX_TIMER_MS) return undefined;
  return setTimeout(() => controller.abort(new JobTimeoutError(deadline.seconds, deadline.limit)), ms);
}
