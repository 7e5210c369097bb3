import type { JobRequest } from "@solstice/common";
import { type ImageEntry, VmEngine } from "@solstice/orchestrator";

/**
 * The baseline: the jobs run straight through `VmEngine.runJob`, `concurrency` at a time (a pool),
 * events kept in memory. Seconds from the first start to the last end.
 */
export async function runThroughEngine(
  jobs: readonly JobRequest[],
  image: ImageEntry,
  concurrency: number,
  stateDir: string,
): Promise<{ seconds: number }> {
  const engine = new VmEngine({ stateDir, sshTimeoutMs: 300_000 });
  const pending = [...jobs];
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let job = pending.shift(); job !== undefined; job = pending.shift()) {
      let events = 0;
      const result = await engine.runJob(job, image, {
        sink: () => {
          events += 1;
        },
      });
      if (result.conclusion !== "success") {
        throw new Error(`engine job failed: ${result.conclusion} ${result.reason ?? ""} (${events} events)`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { seconds: (performance.now() - started) / 1000 };
}
