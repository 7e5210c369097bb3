import { setTimeout as sleep } from "node:timers/promises";

// What to do when a database call fails: wait and try again while the database cannot be reached
// (a restart, a network blip, a failover), give up at once on an answer (a constraint, a bad
// statement). The pg driver reports the first kind as connection errors without a SQLSTATE or
// with one of a few classes; everything else is the server answering.

/** SQLSTATEs that mean "not now" rather than "no": the server is going away, starting, full. */
const TRANSIENT_SQLSTATES = new Set([
  "57P01", // admin_shutdown: pg_terminate_backend, a fast shutdown or restart
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: the server is starting
  "53300", // too_many_connections
  "40001", // serialization_failure
  "40P01", // deadlock_detected
]);

/** Socket errors of a server that cannot be reached (yet). */
const TRANSIENT_SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** pg's own messages for a connection that broke or could not be made in time. */
const TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
];

/**
 * Whether `error` says the database could not be reached (try again later) rather than that it
 * refused the call. Looks through `cause` and AggregateError members.
 *
 * @example
 *   isTransientDatabaseError(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })); // true
 *   isTransientDatabaseError(Object.assign(new Error("insert violates foreign key"), { code: "23503" })); // false
 */
export function isTransientDatabaseError(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (TRANSIENT_SQLSTATES.has(code) || code.startsWith("08")) return true;
    if (TRANSIENT_SOCKET_CODES.has(code)) return true;
  }
  if (error instanceof AggregateError && error.errors.some((e) => isTransientDatabaseError(e, depth + 1))) {
    return true;
  }
  const message = error instanceof Error ? error.message : "";
  if (typeof code !== "string" && TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))) return true;
  return isTransientDatabaseError((error as { cause?: unknown }).cause, depth + 1);
}

/** The wait before retry `attempt` (1-based): 100 ms, doubling, at most `maxMs` (default 5 s). */
export function databaseRetryDelayMs(attempt: number, maxMs = 5_000): number {
  return Math.min(maxMs, 100 * 2 ** Math.min(16, Math.max(0, attempt - 1)));
}

/** Options of {@link untilDatabaseAnswers}. */
export interface DatabaseRetryOptions {
  /** A try failed and another follows after `delayMs` (the first time: the outage began). */
  readonly onRetry?: ((error: unknown, attempt: number, delayMs: number) => void) | undefined;
  /** The longest wait between tries (default 5 s). */
  readonly maxDelayMs?: number | undefined;
  /** Stops waiting: the last error is thrown. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Runs `call` until it succeeds or fails with an answer from the database: while the database
 * cannot be reached it is tried again with back-off (100 ms doubling to 5 s), for as long as that
 * lasts. The call must be safe to repeat (it may have been applied before its answer was lost).
 *
 * @example
 *   await untilDatabaseAnswers(() => store.appendLogs(lines), { onRetry: (e) => log.warn(e) });
 */
export async function untilDatabaseAnswers<T>(
  call: () => Promise<T>,
  options: DatabaseRetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransientDatabaseError(error) || options.signal?.aborted === true) throw error;
      const delayMs = databaseRetryDelayMs(attempt, options.maxDelayMs);
      options.onRetry?.(error, attempt, delayMs);
      try {
        await sleep(
          delayMs,
          undefined,
          options.signal === undefined ? undefined : { signal: options.signal },
        );
      } catch {
        throw error;
      }
    }
  }
}
