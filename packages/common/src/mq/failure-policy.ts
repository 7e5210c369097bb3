import { MessageValidationError, PermanentError, SolsticeError } from "../errors.ts";
import { retryDelay } from "./backoff.ts";

/** What to do with a message whose handler failed. */
export type FailureDecision =
  | { readonly action: "dead-letter"; readonly reason: string; readonly code: string }
  | { readonly action: "retry"; readonly delayMs: number; readonly reason: string };

/** Retry limits of a consumer. */
export interface RetryPolicy {
  /** Handler attempts before dead-lettering (1 = never retry). */
  readonly maxAttempts: number;
  /** First requeue delay; doubles per attempt up to 30 s. */
  readonly retryDelayMs: number;
}

/** A message that can never succeed: bad schema/JSON, or the handler said so. */
export function isPermanentFailure(error: unknown): boolean {
  return error instanceof PermanentError || error instanceof MessageValidationError;
}

/** The error's message and stable code (`HANDLER_FAILED` for errors that are not Solstice's). */
export function describeFailure(error: unknown): { message: string; code: string } {
  if (error instanceof SolsticeError) return { message: error.message, code: error.code };
  if (error instanceof Error) return { message: error.message || error.name, code: "HANDLER_FAILED" };
  return { message: String(error), code: "HANDLER_FAILED" };
}

/**
 * Decides the fate of a message whose handler threw on attempt `attempt` (1-based): permanent
 * failures and the last allowed attempt go to the DLQ with the reason; others are retried.
 *
 * @example
 *   decideFailure(new Error("db down"), 1, { maxAttempts: 5, retryDelayMs: 1000 }) // retry after ~1 s
 */
export function decideFailure(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): FailureDecision {
  const { message, code } = describeFailure(error);
  if (isPermanentFailure(error)) return { action: "dead-letter", reason: message, code };
  if (attempt >= policy.maxAttempts) {
    const tries = attempt === 1 ? "1 attempt" : `${attempt} attempts`;
    return { action: "dead-letter", reason: `gave up after ${tries}: ${message}`, code };
  }
  return { action: "retry", delayMs: retryDelay(policy.retryDelayMs, attempt, random), reason: message };
}
