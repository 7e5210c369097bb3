import { setTimeout as sleepTimer } from "node:timers/promises";
import type { Logger } from "pino";
import type { AccessTokenProvider } from "../auth/access-token.ts";
import { pollRetryDelay, type SessionFailure, sessionRetryDelay } from "../broker/broker-backoff.ts";
import { sessionFailureKind } from "../broker/broker-client.ts";
import { RunnerRemovedError } from "../errors.ts";

// The retry rules both listeners (broker flow and legacy flow) follow around their session and
// their polls; only the calls differ between the flows, so the rules live here once.

/** Resolves after `ms` or when `signal` aborts (tests pass their own). */
export type ListenerSleep = (ms: number, signal: AbortSignal) => Promise<void>;

export async function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  await sleepTimer(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * A runner GitHub no longer knows (or refuses for good): one clear error line per distinct
 * reason, a fresh access token next time, then a slow retry — no crash loop, no busy loop.
 */
export class RunnerGoneNotice {
  readonly #log: Logger;
  readonly #tokens: AccessTokenProvider;
  readonly #retryMs: number;
  readonly #sleep: ListenerSleep;
  #said = "";

  constructor(log: Logger, tokens: AccessTokenProvider, retryMs: number, sleep: ListenerSleep) {
    this.#log = log;
    this.#tokens = tokens;
    this.#retryMs = retryMs;
    this.#sleep = sleep;
  }

  /** Says why (once per reason) and waits the slow retry interval. */
  async wait(error: Error, signal: AbortSignal): Promise<void> {
    this.#tokens.invalidate();
    if (this.#said !== error.message) {
      this.#log.error(
        { retryInMs: this.#retryMs },
        `${error.message}; register it again (solstice-github-runner register), retrying every ${Math.round(this.#retryMs / 1000)} s`,
      );
      this.#said = error.message;
    }
    await this.#sleep(this.#retryMs, signal);
  }

  /** The runner is known again: the next removal is said again. */
  clear(): void {
    this.#said = "";
  }
}

/**
 * Creates a session by the reference runner's retry rules (`sessionRetryDelay` per kind of
 * failure); a runner removed, or a failure given up on, goes through `gone`. Undefined once
 * `signal` aborts.
 */
export async function createSessionWithRetry<T>(
  create: () => Promise<T>,
  options: {
    signal: AbortSignal;
    gone: RunnerGoneNotice;
    sleep: ListenerSleep;
    log: Logger;
    failureMessage: string;
  },
): Promise<T | undefined> {
  const { signal, gone, log } = options;
  const attempts: Record<SessionFailure, number> = { conflict: 0, "clock-skew": 0, fatal: 0, transient: 0 };
  while (!signal.aborted) {
    try {
      const session = await create();
      gone.clear();
      return session;
    } catch (error) {
      if (signal.aborted) return undefined;
      if (error instanceof RunnerRemovedError) {
        await gone.wait(error, signal);
        continue;
      }
      const kind = sessionFailureKind(error);
      attempts[kind] += 1;
      const delay = sessionRetryDelay(kind, attempts[kind]);
      if (delay === undefined) {
        // Given up by the reference runner's rules: say it once, then try again slowly.
        await gone.wait(error instanceof Error ? error : new Error(String(error)), signal);
        attempts[kind] = 0;
        continue;
      }
      log.warn({ err: error, failure: kind, retryInMs: delay }, options.failureMessage);
      await options.sleep(delay, signal);
    }
  }
  return undefined;
}

/**
 * Failed polls in a row: each waits `pollRetryDelay`, logged when its reason changes; past the
 * last delay the session is made again.
 */
export class PollFailures {
  #errors = 0;
  #lastError = "";

  /** A poll answered. */
  reset(): void {
    this.#errors = 0;
    this.#lastError = "";
  }

  /** A poll failed: waits before the next one, or says to make a new session. */
  async next(
    error: unknown,
    options: { signal: AbortSignal; sleep: ListenerSleep; log: Logger; failureMessage: string },
  ): Promise<"retry" | "recreate"> {
    this.#errors += 1;
    const delay = pollRetryDelay(this.#errors);
    if (delay === undefined) {
      options.log.warn({ err: error, errors: this.#errors }, "polling keeps failing; creating a new session");
      return "recreate";
    }
    const text = error instanceof Error ? error.message : String(error);
    if (text !== this.#lastError) options.log.warn({ err: error, retryInMs: delay }, options.failureMessage);
    this.#lastError = text;
    await options.sleep(delay, options.signal);
    return "retry";
  }
}

/** What a listener does after a failed poll. */
export type PollFailureOutcome = "stopped" | "woken" | "job-done" | "recreate" | "retry";

/** What {@link pollFailureOutcome} needs of the listener. */
export interface PollFailureContext {
  readonly signal: AbortSignal;
  /** Aborted to end a long poll early (not a failure). */
  readonly wake: AbortSignal;
  /** An ephemeral runner whose one job was taken: the server removing it is its end. */
  readonly ephemeralTookJob: boolean;
  readonly whenIdle: () => Promise<void>;
  /** Whether `error` says the session is gone (the flows answer it differently). */
  readonly sessionExpired: (error: unknown) => boolean;
  readonly gone: RunnerGoneNotice;
  readonly failures: PollFailures;
  readonly sleep: ListenerSleep;
  readonly log: Logger;
  readonly failureMessage: string;
}

/**
 * The rules both listeners follow when a poll throws: stopped, or woken on purpose; a runner
 * removed (the end of an ephemeral runner's run, else the slow retry); an expired session made
 * again; anything else retried by {@link PollFailures}. `woken`: make a new wake signal and poll.
 */
export async function pollFailureOutcome(error: unknown, c: PollFailureContext): Promise<PollFailureOutcome> {
  if (c.signal.aborted) return "stopped";
  if (c.wake.aborted) return "woken";
  if (error instanceof RunnerRemovedError) {
    if (c.ephemeralTookJob) {
      // The server removes an ephemeral runner once its job is complete: that is the end.
      c.log.info("the service removed this ephemeral runner after its job; ending once the job is reported");
      await c.whenIdle();
      return "job-done";
    }
    await c.gone.wait(error, c.signal);
    return "recreate";
  }
  if (c.sessionExpired(error)) {
    c.log.info("the session expired; creating a new one");
    return "recreate";
  }
  return c.failures.next(error, {
    signal: c.signal,
    sleep: c.sleep,
    log: c.log,
    failureMessage: c.failureMessage,
  });
}
