import type { ImageEntry, JobRequest } from "@solstice/common";
import { VmEngine } from "@solstice/vm-engine";

/** The baseline: jobs run straight through `VmEngine.runJob`, `concurrency` at a time. */
export class EngineSession {
  readonly #engine: VmEngine;
  readonly #image: ImageEntry;
  readonly #concurrency: number;

  constructor(image: ImageEntry, concurrency: number, stateDir: string) {
    this.#engine = new VmEngine({ stateDir, sshTimeoutMs: 300_000 });
    this.#image = image;
    this.#concurrency = concurrency;
  }

  /** Runs the jobs (a pool of `concurrency` workers, events kept in memory); seconds from first start to last end. */
  async run(jobs: readonly JobRequest[]): Promise<number> {
    const pending = [...jobs];
    const started = performance.now();
    const worker = async (): Promise<void> => {
      for (let job = pending.shift(); job !== undefined; job = pending.shift()) {
        let events = 0;
        const result = await this.#engine.runJob(job, this.#image, {
          sink: () => {
            events += 1;
          },
        });
        if (result.conclusion !== "success") {
          throw new Error(
            `engine job failed: ${result.conclusion} ${result.reason ?? ""} (${events} events)`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: this.#concurrency }, () => worker()));
    return (performance.now() - started) / 1000;
  }
}
