// How long the listener waits before trying again, decided without I/O, as the reference
// runner's BrokerMessageListener:
// - creating a session: every 30 s; a session conflict (another listener holds it) for at most
//   4 minutes, a skewed clock (the token answer says "Current server time is") for at most
//   30 minutes; a removed runner, a refused runner (403) or bad credentials: never.
// - polling for messages: after an error a random 15–30 s for the first five errors in a row,
//   then 30–60 s; the tenth error in a row is given up (the daemon restarts the session).

/** Why creating a session failed. */
export type SessionFailure = "conflict" | "clock-skew" | "fatal" | "transient";

/** The session retry interval. */
export const SESSION_RETRY_MS = 30_000;
/** The limit of retries on a session conflict. */
export const SESSION_CONFLICT_LIMIT_MS = 4 * 60_000;
/** The limit of retries on a skewed clock. */
export const CLOCK_SKEW_LIMIT_MS = 30 * 60_000;

/**
 * The delay before the next session attempt, or undefined to give up. `attempts` counts the
 * failures of this kind so far, this one included.
 *
 * @example
 *   sessionRetryDelay("conflict", 1); // 30000
 *   sessionRetryDelay("conflict", 8); // undefined (8 × 30 s = 4 min)
 */
export function sessionRetryDelay(failure: SessionFailure, attempts: number): number | undefined {
  switch (failure) {
    case "fatal":
      return undefined;
    case "conflict":
      return attempts * SESSION_RETRY_MS >= SESSION_CONFLICT_LIMIT_MS ? undefined : SESSION_RETRY_MS;
    case "clock-skew":
      return attempts * SESSION_RETRY_MS >= CLOCK_SKEW_LIMIT_MS ? undefined : SESSION_RETRY_MS;
    case "transient":
      return SESSION_RETRY_MS;
  }
}

/** Errors in a row after which polling gives up. */
export const MAX_POLL_ERRORS = 10;

/**
 * The delay before the next poll after `consecutiveErrors` errors in a row (1 after the first),
 * or undefined to give up. `random` in [0, 1) is for tests.
 */
export function pollRetryDelay(
  consecutiveErrors: number,
  random: () => number = Math.random,
): number | undefined {
  if (consecutiveErrors >= MAX_POLL_ERRORS) return undefined;
  const [min, max] = consecutiveErrors <= 5 ? [15_000, 30_000] : [30_000, 60_000];
  return Math.round(min + (max - min) * random());
}

/** A random delay in [minMs, maxMs] (BackoffTimerHelper.GetRandomBackoff). */
export function randomBackoff(minMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.round(minMs + (maxMs - minMs) * random());
}
