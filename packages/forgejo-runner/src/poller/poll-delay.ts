// How long the poller waits before its next FetchTask: at once after a task (there may be
// more), the fetch interval after an empty answer, a slow fixed retry while the credentials
// are refused, and exponential backoff with jitter after errors (the server may be restarting).

/** What the last FetchTask gave. */
export type PollOutcome = "task" | "empty" | "unauthorized" | "error";

/** The delays' settings. */
export interface PollDelaySettings {
  readonly intervalMs: number;
  readonly authRetryMs: number;
  readonly maxBackoffMs: number;
}

/**
 * The delay in ms. `failures` counts consecutive errors (1 after the first); `random` is for
 * tests.
 *
 * @example
 *   nextPollDelay("error", 3, { intervalMs: 2000, authRetryMs: 60000, maxBackoffMs: 60000 }); // ~8000
 */
export function nextPollDelay(
  outcome: PollOutcome,
  failures: number,
  settings: PollDelaySettings,
  random: () => number = Math.random,
): number {
  switch (outcome) {
    case "task":
      return 0;
    case "empty":
      return settings.intervalMs;
    case "unauthorized":
      return settings.authRetryMs;
    case "error": {
      const base = Math.min(settings.maxBackoffMs, settings.intervalMs * 2 ** Math.max(0, failures - 1));
      // ±20 % so that many runners do not hammer a recovering server in step.
      return Math.round(base * (0.8 + 0.4 * random()));
    }
  }
}
