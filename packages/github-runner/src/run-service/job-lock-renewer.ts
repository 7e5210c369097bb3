import { setTimeout as sleepTimer } from "node:timers/promises";
import { randomBackoff } from "../broker/broker-backoff.ts";
import { isJobNotFound } from "./run-service-api.ts";

// Keeps an acquired job's lock, as the reference runner's JobDispatcher: renew at once, and
// every 60 s after a success. The job may start only after the first renewal succeeded; that
// one is retried five times with a random 1–10 s pause, after which the job is abandoned. Later
// failures are retried (random 5–15 s, 15–30 s after five in a row) until the last lock plus
// five minutes has passed. A 404 means the job is no longer valid: renewing stops at once.
// The clock, the timer and the random source are injected so the loop is tested without time.

/** Why renewing ended. */
export type RenewalEnd = "stopped" | "job-not-found" | "first-renewal-failed" | "lock-expired";

/** Options of {@link JobLockRenewer}. */
export interface JobLockRenewerOptions {
  /** One renewjob call; answers `lockedUntil` in ms. */
  readonly renew: (signal: AbortSignal) => Promise<number>;
  /** Resolves after `ms` (or when `signal` aborts, without throwing). Default: a real timer. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly now?: () => number;
  /** In [0, 1). */
  readonly random?: () => number;
  /** Between successful renewals. Default 60 s. */
  readonly intervalMs?: number;
  /** Retries of the first renewal. Default 5. */
  readonly firstRenewalRetries?: number;
  /** Told about each failed renewal (for logs). */
  readonly onError?: (error: unknown, consecutiveErrors: number) => void;
}

async function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  await sleepTimer(ms, undefined, { signal }).catch(() => undefined);
}

/** The renewal loop of one job. */
export class JobLockRenewer {
  readonly #options: JobLockRenewerOptions;
  readonly #abort = new AbortController();
  #lockedUntil: number | undefined;
  #resolveFirst!: (renewed: boolean) => void;
  /** True once the first renewal succeeded; false when renewing ended before that. */
  readonly firstRenewal: Promise<boolean>;
  #done: Promise<RenewalEnd> | undefined;

  constructor(options: JobLockRenewerOptions) {
    this.#options = options;
    this.firstRenewal = new Promise((resolve) => {
      this.#resolveFirst = resolve;
    });
  }

  /** The lock's end after the last successful renewal. */
  get lockedUntil(): number | undefined {
    return this.#lockedUntil;
  }

  /** Starts renewing (once); resolves with why it ended. */
  start(): Promise<RenewalEnd> {
    this.#done ??= this.#run().then((end) => {
      this.#resolveFirst(false);
      return end;
    });
    return this.#done;
  }

  /** Stops renewing (the job finished) and waits for the loop. */
  async stop(): Promise<RenewalEnd> {
    this.#abort.abort();
    return this.#done ?? "stopped";
  }

  async #run(): Promise<RenewalEnd> {
    const o = this.#options;
    const signal = this.#abort.signal;
    const sleep = o.sleep ?? realSleep;
    const now = o.now ?? Date.now;
    const random = o.random ?? Math.random;
    let firstRetriesLeft = o.firstRenewalRetries ?? 5;
    let errors = 0;
    let renewed = false;
    while (!signal.aborted) {
      try {
        this.#lockedUntil = await o.renew(signal);
        if (!renewed) {
          renewed = true;
          this.#resolveFirst(true);
        }
        errors = 0;
        await sleep(o.intervalMs ?? 60_000, signal);
      } catch (error) {
        if (signal.aborted) break;
        if (isJobNotFound(error)) return "job-not-found";
        errors += 1;
        o.onError?.(error, errors);
        let delay: number;
        if (!renewed) {
          if (firstRetriesLeft <= 0) return "first-renewal-failed";
          firstRetriesLeft -= 1;
          delay = randomBackoff(1000, 10_000, random);
        } else {
          const remaining = (this.#lockedUntil ?? 0) + 5 * 60_000 - now();
          if (remaining <= 0) return "lock-expired";
          delay = errors > 5 ? randomBackoff(15_000, 30_000, random) : randomBackoff(5000, 15_000, random);
        }
        await sleep(delay, signal);
      }
    }
    return "stopped";
  }
}
