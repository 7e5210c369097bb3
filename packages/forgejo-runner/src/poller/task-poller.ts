import { setTimeout as sleep } from "node:timers/promises";
import { Code, type ForgejoClient, ForgejoRpcError, type Task } from "@solstice/forgejo-protocol";
import type { Logger } from "pino";
import { nextPollDelay, type PollOutcome } from "./poll-delay.ts";

// Asks Forgejo for tasks while this runner has room for one, as the reference runner's poller:
// FetchTask with the last `tasks_version` seen (the server only looks for a task when it
// changed), a fetch timeout that is not an error, the fetch interval between empty answers,
// growing backoff on errors, and — when Forgejo refuses the runner's credentials — one clear
// message and slow retries instead of a crash loop (an operator may re-enable the runner).

/** Options of {@link TaskPoller}. */
/** When a FetchTask call began and ended, in ms since the epoch. */
export interface FetchTiming {
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface TaskPollerOptions {
  readonly client: ForgejoClient;
  readonly logger: Logger;
  /** Resolves when another task may start. */
  readonly whenFree: (signal: AbortSignal) => Promise<void>;
  /** Takes a fetched task (must not throw). */
  /** `fetch`: when the FetchTask call that brought it began and ended (ms since the epoch), for its span. */
  readonly onTask: (task: Task, fetch: FetchTiming) => void;
  /** Between empty answers. Default 2000 ms. */
  readonly fetchIntervalMs?: number;
  /** Per FetchTask call. Default 5000 ms. */
  readonly fetchTimeoutMs?: number;
  /** Between attempts while the credentials are refused. Default 60 s. */
  readonly authRetryMs?: number;
  /** Upper bound of the error backoff. Default 60 s. */
  readonly maxBackoffMs?: number;
}

/** The poller's health, for logs and tests. */
export type PollerHealth = "polling" | "unauthorized" | "failing";

/** The FetchTask loop. */
export class TaskPoller {
  readonly #options: TaskPollerOptions;
  #tasksVersion = 0n;
  #health: PollerHealth = "polling";

  constructor(options: TaskPollerOptions) {
    this.#options = options;
  }

  get health(): PollerHealth {
    return this.#health;
  }

  /** Polls until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { client, logger } = this.#options;
    let failures = 0;
    let lastAuthMessage = 0;
    while (!signal.aborted) {
      await this.#options.whenFree(signal);
      if (signal.aborted) break;
      let outcome: PollOutcome;
      try {
        const fetchStarted = Date.now();
        const answer = await client.fetchTask(this.#tasksVersion, {
          signal,
          timeoutMs: this.#options.fetchTimeoutMs ?? 5000,
        });
        if (answer.task !== undefined) {
          // After a task, ask with 0 so that the server really looks again.
          this.#tasksVersion = 0n;
          logger.info({ taskId: answer.task.id.toString() }, "task received");
          this.#options.onTask(answer.task, { startedAt: fetchStarted, endedAt: Date.now() });
          outcome = "task";
        } else {
          if (answer.tasksVersion > this.#tasksVersion) this.#tasksVersion = answer.tasksVersion;
          outcome = "empty";
        }
        if (this.#health !== "polling") logger.info("Forgejo answers again; polling for tasks");
        this.#health = "polling";
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        const rpc = error instanceof ForgejoRpcError ? error : undefined;
        if (rpc?.rpcCode === Code.DeadlineExceeded) {
          outcome = "empty";
        } else if (rpc?.isAuthFailure === true) {
          outcome = "unauthorized";
          // Said once, then every ten minutes while it lasts.
          if (this.#health !== "unauthorized" || Date.now() - lastAuthMessage > 600_000) {
            logger.error(
              { err: rpc, hint: rpc.hint },
              `Forgejo refused this runner's credentials: ${rpc.message}`,
            );
            lastAuthMessage = Date.now();
          }
          this.#health = "unauthorized";
        } else {
          outcome = "error";
          failures += 1;
          if (failures === 1 || failures % 10 === 0)
            logger.warn({ err: error, failures }, "FetchTask failed; backing off");
          this.#health = "failing";
        }
      }
      const delay = nextPollDelay(outcome, failures, {
        intervalMs: this.#options.fetchIntervalMs ?? 2000,
        authRetryMs: this.#options.authRetryMs ?? 60_000,
        maxBackoffMs: this.#options.maxBackoffMs ?? 60_000,
      });
      if (delay > 0) await sleep(delay, undefined, { signal }).catch(() => undefined);
    }
  }
}
