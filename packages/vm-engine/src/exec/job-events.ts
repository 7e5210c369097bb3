import type { ServiceLogger } from "@solstice/common";
import {
  EventSequencer,
  type JobConclusion,
  type JobEvent,
  LogMasker,
  type LogStream,
  redactUrlCredentials,
  type StepConclusion,
  silentLogger,
  type UnsequencedJobEvent,
} from "@solstice/common";

/** At most this many lines in one log event. */
export const LINES_PER_EVENT = 500;
/** About this many bytes of text in one log event. */
const BYTES_PER_EVENT = 64 * 1024;

/**
 * Where a job's events go (the orchestrator publishes them to the job's owner; tests collect
 * them). Called once per event, in `seq` order, never concurrently: the next call waits for the
 * previous one's promise. A sink that throws loses that event (logged), not the job.
 */
export type JobEventSink = (event: JobEvent) => void | Promise<void>;

/**
 * Turns what happens during a job into sequenced {@link JobEvent}s (common's EventSequencer) and
 * hands them to the sink in order. Every text is masked (JobRequest `mask`, values a step
 * registers with `::add-mask::` from then on, and credentials in URLs) before it leaves; the
 * engine masks what else it says about the job (its reason, its error) with {@link mask}.
 *
 * @example
 *   const events = new JobEventEmitter(request.request_id, sink, { mask: request.mask });
 *   events.stepStarted(0, "Build");
 *   events.log(0, "stdout", "compiling...");
 *   await events.flush();
 */
export class JobEventEmitter {
  readonly requestId: string;
  readonly #sequencer: EventSequencer;
  readonly #sink: JobEventSink;
  readonly #masker: LogMasker;
  readonly #logger: ServiceLogger;
  #chain: Promise<void> = Promise.resolve();
  #failures = 0;
  #finished = false;

  constructor(
    requestId: string,
    sink: JobEventSink,
    options: { mask?: readonly string[] | undefined; logger?: ServiceLogger; startAt?: number } = {},
  ) {
    this.requestId = requestId;
    this.#sequencer = new EventSequencer(
      requestId,
      options.startAt === undefined ? {} : { startAt: options.startAt },
    );
    this.#sink = sink;
    this.#masker = new LogMasker(options.mask ?? []);
    this.#logger = options.logger ?? silentLogger;
  }

  /** How many sink calls failed. */
  get sinkFailures(): number {
    return this.#failures;
  }

  /** The `seq` the next event gets. */
  get nextSeq(): number {
    return this.#sequencer.nextSeq;
  }

  /**
   * `text` as it may leave the engine: the job's secrets (and values registered so far with
   * `::add-mask::`) and credentials in URLs replaced by `***`.
   */
  mask(text: string): string {
    return redactUrlCredentials(this.#masker.mask(text));
  }

  /** A line of output; `step` null for job-level lines (boot console, checkout, notices). */
  log(step: number | null, stream: LogStream, text: string): void {
    // A step's own output may register values to mask (`::add-mask::`); Solstice's lines may not.
    const masked = stream === "system" ? this.mask(text) : redactUrlCredentials(this.#masker.maskLine(text));
    this.#emit({ type: "log", step, stream, text: masked });
  }

  /**
   * Lines a step printed that were read together: one event for up to {@link LINES_PER_EVENT}
   * lines (or about 64 KB), its `text` the lines joined by `\n`. A job printing thousands of
   * lines a second then costs the queue a few messages a second, not thousands.
   */
  logLines(step: number, stream: "stdout" | "stderr", lines: readonly string[]): void {
    let batch: string[] = [];
    let bytes = 0;
    for (const line of lines) {
      const masked = redactUrlCredentials(this.#masker.maskLine(line));
      if (batch.length > 0 && (batch.length >= LINES_PER_EVENT || bytes + masked.length > BYTES_PER_EVENT)) {
        this.#emit({ type: "log", step, stream, text: batch.join("\n") });
        batch = [];
        bytes = 0;
      }
      batch.push(masked);
      bytes += masked.length + 1;
    }
    if (batch.length > 0) this.#emit({ type: "log", step, stream, text: batch.join("\n") });
  }

  /** A job-level `system` line. */
  system(text: string): void {
    this.log(null, "system", text);
  }

  jobStarted(fields: { host?: string | undefined; label?: string | undefined } = {}): void {
    this.#emit({
      type: "job_started",
      ...(fields.host === undefined ? {} : { host: fields.host }),
      ...(fields.label === undefined ? {} : { label: fields.label }),
    });
  }

  stepStarted(step: number, name: string): void {
    this.#emit({ type: "step_started", step, name: this.mask(name) });
  }

  stepFinished(
    step: number,
    result: {
      exitCode: number | null;
      durationMs: number;
      conclusion: StepConclusion;
      outputs?: Readonly<Record<string, string>>;
      summary?: string;
    },
  ): void {
    const outputs =
      result.outputs === undefined
        ? undefined
        : Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, this.mask(v)]));
    this.#emit({
      type: "step_finished",
      step,
      exit_code: result.exitCode,
      duration_ms: Math.max(0, Math.round(result.durationMs)),
      conclusion: result.conclusion,
      ...(outputs === undefined ? {} : { outputs }),
      ...(result.summary === undefined ? {} : { summary: this.mask(result.summary) }),
    });
  }

  /** The job's last event; later events are refused (a programming error). */
  jobFinished(conclusion: JobConclusion, reason?: string): void {
    this.#emit({
      type: "job_finished",
      conclusion,
      ...(reason === undefined ? {} : { reason: this.mask(reason) }),
    });
    this.#finished = true;
  }

  /** Resolves when the sink has been called for every event so far. */
  flush(): Promise<void> {
    return this.#chain;
  }

  #emit(event: UnsequencedJobEvent): void {
    if (this.#finished) throw new Error(`job ${this.requestId}: event ${event.type} after job_finished`);
    const stamped = this.#sequencer.next(event);
    this.#chain = this.#chain.then(async () => {
      try {
        await this.#sink(stamped);
      } catch (error) {
        this.#failures += 1;
        this.#logger.error(
          { requestId: this.requestId, seq: stamped.seq, type: stamped.type, err: error },
          "job event sink failed; event lost",
        );
      }
    });
  }
}
