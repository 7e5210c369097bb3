import { type JobRequest, newJobRequest } from "@solstice/common";

/** What both sides of the benchmark do: the same messages, the same broker, the same prefetch. */
export interface Workload {
  readonly url: string;
  readonly messages: number;
  readonly prefetch: number;
  readonly requests: readonly JobRequest[];
}

/** One measured run. */
export interface RunResult {
  /** From the first publish to the last message consumed. */
  readonly seconds: number;
  /** From the first publish to the last broker confirm. */
  readonly publishSeconds: number;
  /** CPU time of this process (user + system) over the run. */
  readonly cpuSeconds: number;
}

/** JobRequests shaped like a forge runner's: steps, env, owner, labels. */
export function makeRequests(count: number): JobRequest[] {
  return Array.from({ length: count }, (_, i) =>
    newJobRequest({
      source: "forgejo",
      repo_url: "https://code.example.org/solstice/solstice-ci.git",
      commit_sha: (i.toString(16).padStart(8, "0") + "f".repeat(32)).slice(0, 40),
      workflow_path: ".forgejo/workflows/ci.yml",
      workflow_job_id: "test",
      runs_on: "omnios-bloody",
      steps: [
        { name: "Checkout", run: "git status" },
        { name: "Build", run: "gmake -j4", env: { CC: "gcc" } },
        { name: "Test", run: "gmake check", timeout_seconds: 600 },
      ],
      env: { CI: "true" },
      owner: { kind: "forgejo", instance: "https://code.example.org#runner-1", task_id: String(1000 + i) },
      labels: ["omnios-bloody"],
    }),
  );
}

/** A unique name prefix for this run's exchanges and queues. */
export function uniquePrefix(side: string): string {
  return `bench-mq-${side}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
}

/** Times `run` (wall clock from `start()` on, and process CPU over the whole run). */
export async function measure(
  run: (marks: { start(): void; published(): void }) => Promise<void>,
): Promise<RunResult> {
  let started = 0;
  let published = 0;
  const cpuBefore = process.cpuUsage();
  await run({
    start: () => {
      started = performance.now();
    },
    published: () => {
      published = performance.now();
    },
  });
  const finished = performance.now();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    seconds: (finished - started) / 1000,
    publishSeconds: (published - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
