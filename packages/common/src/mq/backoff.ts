/** Exponential backoff with jitter: how long to wait before attempt `attempt` (1-based). */
export interface BackoffPolicy {
  /** Delay before the first retry, in milliseconds. */
  readonly initialMs: number;
  /** No delay exceeds this. */
  readonly maxMs: number;
  /** Growth per attempt (2 doubles). */
  readonly factor: number;
  /** 0..1: the delay is drawn from [base × (1 − jitter), base]. */
  readonly jitter: number;
}

/** Reconnection: 200 ms, 400 ms, ... up to `maxMs`, each shortened by up to half at random. */
export function reconnectBackoff(maxMs: number): BackoffPolicy {
  return { initialMs: 200, maxMs, factor: 2, jitter: 0.5 };
}

/**
 * The delay before attempt `attempt` (1 for the first retry). Jitter spreads the reconnections
 * of many clients after a broker restart so they do not all arrive at once.
 *
 * @example
 *   backoffDelay({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 }, 3) // 400
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(base * (1 - jitter * random()));
}

/** The delay before requeueing a message whose handler failed for the `attempt`-th time. */
export function retryDelay(baseMs: number, attempt: number, random: () => number = Math.random): number {
  return backoffDelay(
    { initialMs: baseMs, maxMs: Math.max(baseMs, 30_000), factor: 2, jitter: 0.2 },
    attempt,
    random,
  );
}
