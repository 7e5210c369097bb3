// The baseline of bench/github-logs: the job's JobRequest published straight to the orchestrator,
// its events read off the owner's queue by a bare consumer (as forgejo-logs' baseline): per line,
// the event's timestamp (when the orchestrator read it from the guest) to the event's arrival.

import {
  type AmqpJobQueue,
  type ImageEntry,
  type JobEvent,
  type JobOwner,
  newJobRequest,
} from "@solstice/common";
import { lineNumber, type RowSample } from "../forgejo-logs/row-latency.ts";

/** One baseline job: its line samples (in arrival order) and how many log events carried them. */
export interface BaselineResult {
  readonly samples: RowSample[];
  readonly logEvents: number;
  /** Seconds from the step's end to the job's (event timestamps: the VM is stopped in between). */
  readonly stepEndToJobEnd: number;
  /** Seconds between the arrivals of step_finished and job_finished. */
  readonly stepEndToJobEndArrival: number;
}

/** Jobs published to the orchestrator, events consumed by a bare consumer. */
export class Baseline {
  readonly owner: JobOwner = { kind: "manual", instance: `bench-github-logs-${process.pid}` };
  readonly #queue: AmqpJobQueue;
  readonly #image: ImageEntry;
  readonly #running = new Map<string, (event: JobEvent, arrivedAt: number) => void>();

  constructor(queue: AmqpJobQueue, image: ImageEntry) {
    this.#queue = queue;
    this.#image = image;
  }

  async subscribe(): Promise<void> {
    await this.#queue.consumeEvents(
      this.owner,
      async (event) => {
        this.#running.get(event.request_id)?.(event, Date.now());
      },
      { prefetch: 2000 },
    );
  }

  /** Runs one job whose only step is `script`; rejects when it fails or takes over `timeoutMs`. */
  async run(script: string, timeoutMs: number): Promise<BaselineResult> {
    const request = newJobRequest({
      source: "manual",
      repo_url: "unused",
      commit_sha: "0000000000000000000000000000000000000000",
      runs_on: this.#image.label,
      // As the GitHub runner's translation of a job without actions/checkout: no workspace checkout.
      workspace_checkout: false,
      steps: [{ name: "print", run: script }],
      owner: this.owner,
    });
    const samples: RowSample[] = [];
    let logEvents = 0;
    let stepEnd = { stampedAt: Number.NaN, arrivedAt: Number.NaN };
    let jobEnd = { stampedAt: Number.NaN, arrivedAt: Number.NaN };
    let timer: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the baseline job did not finish in ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      this.#running.set(request.request_id, (event, arrivedAt) => {
        if (event.type === "log" && event.step === 0) {
          logEvents += 1;
          const stampedAt = Date.parse(event.timestamp);
          for (const line of event.text.split("\n")) {
            const n = lineNumber(line);
            if (n !== undefined) samples.push({ n, stampedAt, arrivedAt });
          }
        } else if (event.type === "step_finished" && event.step === 0) {
          stepEnd = { stampedAt: Date.parse(event.timestamp), arrivedAt };
        } else if (event.type === "job_finished") {
          jobEnd = { stampedAt: Date.parse(event.timestamp), arrivedAt };
          if (event.conclusion === "success") resolve();
          else reject(new Error(`the baseline job ended ${event.conclusion}: ${event.reason ?? ""}`));
        }
      });
    });
    try {
      await this.#queue.publishJob(request);
      await finished;
    } finally {
      clearTimeout(timer);
      this.#running.delete(request.request_id);
    }
    return {
      samples,
      logEvents,
      stepEndToJobEnd: (jobEnd.stampedAt - stepEnd.stampedAt) / 1000,
      stepEndToJobEndArrival: (jobEnd.arrivedAt - stepEnd.arrivedAt) / 1000,
    };
  }
}
