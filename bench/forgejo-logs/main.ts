// bench/forgejo-logs: a job printing N lines (default 100,000) through the whole Forgejo path —
// Forgejo protocol test server → solstice-forgejo-runner → RabbitMQ → orchestrator (a child
// process, as deployed) → VM → events → runner → UpdateLog — checked for count and order, and
// timed from each row's timestamp (when the orchestrator read the line from the guest, the
// LogRow time Forgejo shows) to its arrival at the server.
//
// Baseline, in the same run: the same job published straight to the orchestrator, its events
// consumed from the queue by a bare consumer (event timestamp → arrival). The ratio is what the
// runner adds on top of the queue.
//
//   pnpm bench forgejo-logs [-- --lines 100000]

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { AmqpJobQueue, type JobOwner, newJobRequest, ownerEventsTopology } from "@solstice/common";
import {
  parseRunnerLabels,
  readRunnerState,
  registerRunner,
  runnerOwner,
  startRunnerDaemon,
} from "@solstice/forgejo-runner";
import { ForgejoTestServer } from "@solstice/forgejo-test-server";
import { connect } from "amqplib";
import { pino } from "pino";
import {
  AMQP_URL,
  benchMq,
  deleteMq,
  fastGuestImage,
  postgresSchema,
  startOrchestratorProcess,
} from "../orchestrator-throughput/setup.ts";

const { values } = parseArgs({
  options: { lines: { type: "string", default: "100000" }, "timeout-s": { type: "string", default: "900" } },
});
const LINES = Number(values.lines);
const TIMEOUT_MS = Number(values["timeout-s"]) * 1000;
const TARGET_P95_S = 1.5;
const SHA = "0000000000000000000000000000000000000000";
const STEP = `seq 1 ${LINES} | sed 's/^/line /'`;
const HOST_ID = "bench-forgejo-logs";

interface Sample {
  /** The line's number (from its text). */
  readonly n: number;
  readonly latencyMs: number;
  readonly arrivedAt: number;
  readonly stampedAt: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Summary {
  readonly rows: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly rowsPerSecond: number;
}

/** Count and order checked, then latency percentiles (s) and rows/s. Throws on a missing or misplaced row. */
function summarise(what: string, samples: readonly Sample[]): Summary {
  const numbers = samples.map((s) => s.n);
  if (numbers.length !== LINES)
    throw new Error(`${what}: ${numbers.length} line rows arrived, expected ${LINES}`);
  for (let i = 0; i < numbers.length; i += 1) {
    if (numbers[i] !== i + 1)
      throw new Error(`${what}: row ${i} is "line ${numbers[i]}", expected "line ${i + 1}"`);
  }
  const latencies = samples.map((s) => s.latencyMs / 1000).sort((a, b) => a - b);
  const first = Math.min(...samples.map((s) => s.stampedAt));
  const last = Math.max(...samples.map((s) => s.arrivedAt));
  return {
    rows: samples.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    max: latencies.at(-1) ?? Number.NaN,
    rowsPerSecond: samples.length / ((last - first) / 1000),
  };
}

const LINE = /^line (\d+)$/;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bench-forgejo-logs-"));
  const image = await fastGuestImage();
  const mq = benchMq(1);
  const pg = await postgresSchema();
  const baselineOwner: JobOwner = { kind: "manual", instance: `bench-forgejo-logs-${process.pid}` };
  const server = await ForgejoTestServer.start({ publicUrl: "http://10.0.2.2:{port}" });
  const orchestrator = await startOrchestratorProcess({
    image,
    capacity: 1,
    dir,
    mq,
    databaseUrl: pg.url,
    hostId: HOST_ID,
  });
  const queue = await AmqpJobQueue.connect({ config: mq });
  let runnerQueue: string | undefined;
  try {
    console.log(`a job printing ${LINES} lines, fast guest (TCG), orchestrator capacity 1`);

    // Baseline: the orchestrator alone, events read straight off the queue.
    const baseline: Sample[] = [];
    const request = newJobRequest({
      source: "manual",
      repo_url: "unused",
      commit_sha: SHA,
      runs_on: image.label,
      workspace_checkout: false,
      steps: [{ name: "print", run: STEP }],
      owner: baselineOwner,
    });
    const baselineDone = new Promise<void>((resolve, reject) => {
      void queue.consumeEvents(
        baselineOwner,
        async (event) => {
          if (event.request_id !== request.request_id) return;
          if (event.type === "log" && event.step === 0) {
            const arrivedAt = Date.now();
            const stampedAt = Date.parse(event.timestamp);
            // An event holds the lines read together from the guest.
            for (const line of event.text.split("\n")) {
              const match = LINE.exec(line);
              if (match !== null)
                baseline.push({
                  n: Number(match[1]),
                  latencyMs: arrivedAt - stampedAt,
                  arrivedAt,
                  stampedAt,
                });
            }
          }
          if (event.type === "job_finished") {
            if (event.conclusion === "success") resolve();
            else reject(new Error(`the baseline job ended ${event.conclusion}: ${event.reason ?? ""}`));
          }
        },
        { prefetch: 2000 },
      );
    });
    await queue.publishJob(request);
    await withTimeout(baselineDone, "the baseline job");

    const base = summarise("baseline", baseline);

    // Through the runner.
    const stateFile = join(dir, "runner", ".runner");
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const code = await registerRunner(
      { stdout: sink, stderr: sink, env: {}, cwd: dir, action: () => async () => undefined },
      {
        instance: server.url,
        token: server.createRegistrationToken(),
        name: "bench",
        labels: parseRunnerLabels([image.label]),
        stateFile,
        force: false,
      },
    );
    if (code !== 0) throw new Error(`register exited ${code}`);
    const state = await readRunnerState(stateFile);
    runnerQueue = ownerEventsTopology(mq, runnerOwner(state.address, state.uuid)).queue;
    const daemon = await startRunnerDaemon(
      { stateFile, labels: parseRunnerLabels([image.label]), capacity: 1, mq, fetchIntervalMs: 200 },
      pino({ level: "warn" }),
    );
    const workflow = `on: push\njobs:\n  logs:\n    runs-on: ${image.label}\n    steps:\n      - run: ${STEP}\n`;
    const task = server.addTask({ workflow, sha: SHA });
    const done = await server.waitForTask(task.id, (t) => t.status === "done" && t.noMore, TIMEOUT_MS);
    await daemon.stop();
    const runner: Sample[] = [];
    for (const row of done.rows) {
      const match = LINE.exec(row.content);
      if (match === null) continue;
      const stampedAt = row.time.getTime();
      runner.push({
        n: Number(match[1]),
        latencyMs: row.receivedAt - stampedAt,
        arrivedAt: row.receivedAt,
        stampedAt,
      });
    }
    if (done.result !== 1) throw new Error(`the task ended with result ${done.result}, not success`);
    const through = summarise("runner", runner);

    const row = (name: string, s: Summary) =>
      `${name.padEnd(26)} ${String(s.rows).padStart(7)}  ${s.p50.toFixed(3).padStart(7)}  ${s.p95.toFixed(3).padStart(7)}  ${s.max.toFixed(3).padStart(7)}  ${Math.round(s.rowsPerSecond).toString().padStart(8)}`;
    console.log(
      `${"".padEnd(26)} ${"rows".padStart(7)}  ${"p50 s".padStart(7)}  ${"p95 s".padStart(7)}  ${"max s".padStart(7)}  ${"rows/s".padStart(8)}`,
    );
    console.log(row("baseline (queue consumer)", base));
    console.log(row("runner → UpdateLog", through));
    console.log(
      `ratios: p95 ${(through.p95 / base.p95).toFixed(2)}× the baseline's; rows/s ${(through.rowsPerSecond / base.rowsPerSecond).toFixed(2)} of the baseline's`,
    );
    console.log(
      `every row arrived once, in order; p95 ${through.p95.toFixed(3)} s vs target ${TARGET_P95_S} s: ${through.p95 <= TARGET_P95_S ? "PASS" : "FAIL"}`,
    );
  } finally {
    await queue.close();
    orchestrator.kill("SIGTERM");
    await new Promise((resolve) => orchestrator.once("exit", resolve));
    await server.close();
    await deleteMq(mq, baselineOwner, HOST_ID);
    if (runnerQueue !== undefined) {
      const model = await connect(AMQP_URL);
      const channel = await model.createChannel();
      await channel.deleteQueue(runnerQueue);
      await model.close();
    }
    await pg.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish in ${TIMEOUT_MS / 1000} s`)),
      TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
