import { Counter, Histogram, JobConclusionSchema, type MetricFamily } from "@solstice/common";

/** Forge call buckets, seconds: a local forge answers in milliseconds, a long poll in ~50 s. */
export const FORGE_CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One call to the forge, as the forge client saw it. */
export interface ForgeCall {
  /** A bounded name: the RPC (`FetchTask`, `UpdateLog`) or the API operation (`acquirejob`). */
  readonly call: string;
  readonly seconds: number;
  /**
   * Undefined on success; else the error's code: the RPC code (`unavailable`, `unauthenticated`),
   * the HTTP status (`503`), or `network` when no answer came.
   */
  readonly error?: string | undefined;
}

/** What a scrape reads at that moment. */
export interface RunnerSnapshot {
  /** Tasks (jobs) this runner runs now. */
  readonly running: number;
}

/**
 * The metrics of a forge runner (Forgejo or GitHub): tasks started and finished, calls to the
 * forge (latency by call, errors by call and code). Its last forge call also answers the
 * `forge` readiness probe: a runner whose forge refuses or does not answer is not ready.
 *
 * @example
 *   const metrics = new RunnerMetrics();
 *   metrics.observeForgeCall({ call: "UpdateLog", seconds: 0.04 });
 *   metrics.taskFinished("success");
 */
export class RunnerMetrics {
  readonly #started = new Counter();
  readonly #finished = new Counter();
  readonly #callDuration = new Histogram(FORGE_CALL_BUCKETS);
  readonly #callErrors = new Counter();
  #lastCall: ForgeCall | undefined;

  constructor() {
    this.#started.declare();
    for (const conclusion of JobConclusionSchema.options) this.#finished.declare({ conclusion });
  }

  /** The forge handed this runner a task (a job). */
  taskStarted(): void {
    this.#started.inc();
  }

  /** A task ended and its conclusion was reported to the forge. */
  taskFinished(conclusion: string): void {
    this.#finished.inc({ conclusion });
  }

  /** A call to the forge returned or failed. */
  observeForgeCall(call: ForgeCall): void {
    this.#callDuration.observe(call.seconds, { call: call.call });
    if (call.error !== undefined) this.#callErrors.inc({ call: call.call, code: call.error });
    this.#lastCall = call;
  }

  /** For `/readyz`: resolves when the last forge call succeeded, else says why not. */
  async forgeReady(): Promise<void> {
    const last = this.#lastCall;
    if (last === undefined) throw new Error("no call to the forge has answered yet");
    if (last.error !== undefined) throw new Error(`the last forge call (${last.call}) failed: ${last.error}`);
  }

  /** Every metric family, ready for `renderPrometheus`. */
  collect(snapshot: RunnerSnapshot): MetricFamily[] {
    return [
      {
        type: "gauge",
        name: "solstice_runner_tasks_running",
        help: "Tasks (jobs) this runner runs now.",
        samples: [{ value: snapshot.running }],
      },
      {
        type: "counter",
        name: "solstice_runner_tasks_started_total",
        help: "Tasks (jobs) the forge handed this runner.",
        samples: this.#started.samples(),
      },
      {
        type: "counter",
        name: "solstice_runner_tasks_finished_total",
        help: "Tasks (jobs) this runner saw end, by conclusion.",
        samples: this.#finished.samples(),
      },
      {
        type: "histogram",
        name: "solstice_runner_forge_call_duration_seconds",
        help: "How long calls to the forge took, failed ones included, by call (report latency: the log and state calls).",
        buckets: FORGE_CALL_BUCKETS,
        series: this.#callDuration.series(),
      },
      {
        type: "counter",
        name: "solstice_runner_forge_call_errors_total",
        help: "Calls to the forge that failed, by call and code (RPC code, HTTP status, or network).",
        samples: this.#callErrors.samples(),
      },
    ];
  }
}
