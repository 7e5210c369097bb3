// bench/forgejo-logs: a job printing N lines (default 100,000) through the whole Forgejo path —
// Forgejo protocol test server → solstice-forgejo-runner (in this process) → RabbitMQ →
// orchestrator (a child process, as deployed) → VM → events → runner → UpdateLog — checked for
// count and order (exit 1 when a row is missing, repeated or out of place), and timed from each
// row's timestamp (LogRow.time: when the orchestrator read the line from the guest) to its
// arrival at the test server. Targets: p95 <= 1.5 s; issue 19: p95 <= 0.5 s and rows/s >= 0.8 x the baseline.
//
// Baseline, in the same run: the same job published straight to the orchestrator, its events
// consumed from the owner's queue by a bare consumer (event timestamp → arrival). The ratios are
// what the runner adds on top of the queue. Rounds alternate which side goes first.
//
// `--source queue`: no orchestrator and no VM; the bench answers every job with synthetic events
// (queue-source.ts) at `--rate` lines/s, to both sides: the runner's cost on top of the queue alone.
//
//   pnpm bench forgejo-logs [-- --lines 100000 --rounds 3 --timeout-s 900 --source orchestrator|queue --rate 50000 --event-lines 500]

import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import type { ImageEntry } from "@solstice/common";
import {
  AmqpJobQueue,
  type JobEvent,
  type JobOwner,
  newJobRequest,
  ownerEventsTopology,
} from "@solstice/common";
import { Result } from "@solstice/forgejo-protocol";
import { type RunnerDaemon, registerRunner, startRunnerDaemon } from "@solstice/forgejo-runner";
import { ForgejoTestServer } from "@solstice/forgejo-test-server";
import { parseRunnerLabels } from "@solstice/runner-core";
import { connect } from "amqplib";
import { pino } from "pino";
import {
  AMQP_URL,
  benchMq,
  deleteMq,
  fastGuestImage,
  freePort,
  postgresSchema,
  startOrchestratorProcess,
} from "../orchestrator-throughput/setup.ts";
import { publishSyntheticJob, type QueueSourcePace, serveJobsFromQueue } from "./queue-source.ts";
import {
  checkRows,
  lineNumber,
  RowOrderError,
  type RowSample,
  type RowSummary,
  summarise,
} from "./row-latency.ts";

const { values } = parseArgs({
  options: {
    lines: { type: "string", default: "100000" },
    rounds: { type: "string", default: "3" },
    "warmup-lines": { type: "string", default: "20000" },
    "timeout-s": { type: "string", default: "900" },
    source: { type: "string", default: "orchestrator" },
    rate: { type: "string", default: "50000" },
    "event-lines": { type: "string", default: "500" },
  },
});
const SOURCE = values.source;
const PACE: QueueSourcePace = {
  linesPerSecond: Number(values.rate),
  linesPerEvent: Number(values["event-lines"]),
};
const LINES = Number(values.lines);
const ROUNDS = Number(values.rounds);
const WARMUP_LINES = Number(values["warmup-lines"]);
const TIMEOUT_MS = Number(values["timeout-s"]) * 1000;
if (
  ![LINES, ROUNDS, TIMEOUT_MS].every((n) => Number.isInteger(n) && n >= 1) ||
  !(Number.isInteger(WARMUP_LINES) && WARMUP_LINES >= 0) ||
  !(SOURCE === "orchestrator" || SOURCE === "queue") ||
  !(PACE.linesPerSecond > 0) ||
  !(Number.isInteger(PACE.linesPerEvent) && PACE.linesPerEvent >= 1 && PACE.linesPerEvent <= 500)
) {
  console.error(
    "--lines, --rounds and --timeout-s must be positive whole numbers, --warmup-lines >= 0, " +
      "--source orchestrator or queue, --rate > 0, --event-lines 1..500",
  );
  process.exit(2);
}
const TARGET_P95_S = 1.5;
// Issue 19: the runner at the queue's own speed.
const TARGET_P95_ISSUE19_S = 0.5;
const TARGET_RATE_RATIO = 0.8;
const SHA = "0000000000000000000000000000000000000000";
const printLines = (lines: number) => `seq 1 ${lines} | sed 's/^/line /'`;
const HOST_ID = `bench-forgejo-logs-${process.pid}`;

/** One side's result in one round. */
interface RoundResult {
  readonly samples: RowSample[];
  /** This process's CPU time during the job (user + system), µs: the runner and the test server, or the bare consumer. */
  readonly cpuUs?: number;
  /** UpdateLog calls the server answered during the round, and how many stored rows (runner side only). */
  readonly updateLogCalls?: number;
  readonly writes?: number;
}

/** The baseline: jobs published to the orchestrator, events read by a bare consumer. */
class Baseline {
  readonly owner: JobOwner = { kind: "manual", instance: `bench-forgejo-logs-${process.pid}` };
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

  async run(lines: number): Promise<RoundResult> {
    const request =
      SOURCE === "queue"
        ? { request_id: randomUUID() }
        : newJobRequest({
            source: "manual",
            repo_url: "unused",
            commit_sha: SHA,
            runs_on: this.#image.label,
            // As the runner's translation: the workspace is left empty (checkout is a step).
            workspace_checkout: false,
            steps: [{ name: "print", run: printLines(lines) }],
            owner: this.owner,
          });
    const samples: RowSample[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      this.#running.set(request.request_id, (event, arrivedAt) => {
        if (event.type === "log" && event.step === 0) {
          const stampedAt = Date.parse(event.timestamp);
          // An event holds the lines the orchestrator read together from the guest.
          for (const line of event.text.split("\n")) {
            const n = lineNumber(line);
            if (n !== undefined) samples.push({ n, stampedAt, arrivedAt });
          }
        } else if (event.type === "job_finished") {
          if (event.conclusion === "success") resolve();
          else reject(new Error(`the baseline job ended ${event.conclusion}: ${event.reason ?? ""}`));
        }
      });
    });
    try {
      if ("runs_on" in request) await this.#queue.publishJob(request);
      else await publishSyntheticJob(this.#queue, this.owner, request.request_id, lines, PACE);
      await withTimeout(finished, "the baseline job");
    } finally {
      this.#running.delete(request.request_id);
    }
    return { samples };
  }
}

/** The runner side: tasks added to the test server, rows read from it. */
async function runThroughRunner(
  server: ForgejoTestServer,
  label: string,
  lines: number,
): Promise<RoundResult> {
  const workflow = `on: push\njobs:\n  logs:\n    runs-on: ${label}\n    steps:\n      - run: ${printLines(lines)}\n`;
  const started = Date.now();
  const task = server.addTask({ workflow, sha: SHA });
  const done = await server.waitForTask(task.id, (t) => t.status === "done" && t.noMore, TIMEOUT_MS);
  if (done.result !== Result.SUCCESS)
    throw new Error(
      `the task ended with result ${Object.entries(Result).find(([, v]) => v === done.result)?.[0] ?? done.result}, not SUCCESS`,
    );
  const samples: RowSample[] = [];
  for (const row of done.rows) {
    const n = lineNumber(row.content);
    if (n !== undefined) samples.push({ n, stampedAt: row.time.getTime(), arrivedAt: row.receivedAt });
  }
  const updateLogCalls = server.calls.filter(
    (c) => c.procedure === "UpdateLog" && c.at.getTime() >= started,
  ).length;
  // The server stores one call's rows at one instant.
  const writes = new Set(done.rows.map((row) => row.receivedAt)).size;
  return { samples, updateLogCalls, writes };
}

async function registerAndStartRunner(
  server: ForgejoTestServer,
  label: string,
  dir: string,
  mq: ReturnType<typeof benchMq>,
): Promise<RunnerDaemon> {
  const stateFile = join(dir, "runner", ".runner");
  const out: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _e, done) => {
      out.push(chunk.toString());
      done();
    },
  });
  const labels = parseRunnerLabels([label]);
  const code = await registerRunner(
    { stdout: sink, stderr: sink, env: {}, cwd: dir, action: () => async () => undefined },
    {
      instance: server.url,
      token: server.createRegistrationToken(),
      name: "bench",
      labels,
      stateFile,
      force: false,
    },
  );
  if (code !== 0) throw new Error(`register exited ${code}: ${out.join("")}`);
  // The daemon's defaults but a short idle poll, so a task is picked up at once.
  return startRunnerDaemon(
    { stateFile, labels, capacity: 1, mq, fetchIntervalMs: 200, reportIntervalMs: 1000 },
    pino({ level: "warn" }, process.stderr),
  );
}

const seconds = (s: number) => `${s.toFixed(3)} s`;
const cpuPerRow = (us: number | undefined, rows: number) =>
  us === undefined ? "–" : `${(us / rows).toFixed(1)} µs`;

/** Runs one side's job and adds this process's CPU time during it. */
async function withCpu(run: () => Promise<RoundResult>): Promise<RoundResult> {
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  return { ...result, cpuUs: used.user + used.system };
}

function tableRow(name: string, s: RowSummary, extra = ""): string {
  return (
    `${name.padEnd(30)} ${s.rows.toLocaleString("en-US").padStart(9)}  ${s.p50.toFixed(3).padStart(7)}` +
    `  ${s.p95.toFixed(3).padStart(7)}  ${s.max.toFixed(3).padStart(7)}` +
    `  ${Math.round(s.rowsPerSecond).toLocaleString("en-US").padStart(8)}${extra}`
  );
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "bench-forgejo-logs-"));
  const image = await fastGuestImage();
  const mq = benchMq(1);
  const pg = await postgresSchema();
  let server: ForgejoTestServer | undefined;
  let orchestrator: ChildProcess | undefined;
  let queue: AmqpJobQueue | undefined;
  let daemon: RunnerDaemon | undefined;
  const owners: Pick<JobOwner, "kind" | "instance">[] = [];
  try {
    const port = await freePort();
    server = await ForgejoTestServer.start({ port, publicUrl: "http://10.0.2.2:{port}" });
    queue = await AmqpJobQueue.connect({ config: mq });
    let jobLines = WARMUP_LINES;
    if (SOURCE === "orchestrator") {
      orchestrator = await startOrchestratorProcess({
        image,
        capacity: 1,
        dir,
        mq,
        databaseUrl: pg.url,
        hostId: HOST_ID,
      });
    } else {
      const source = queue;
      await serveJobsFromQueue(
        source,
        () => jobLines,
        PACE,
        (error) => console.error("synthetic job failed:", error),
      );
    }
    const baseline = new Baseline(queue, image);
    owners.push(baseline.owner);
    await baseline.subscribe();
    daemon = await registerAndStartRunner(server, image.label, dir, mq);
    owners.push(daemon.owner);

    console.log(
      SOURCE === "orchestrator"
        ? `forgejo-logs: a job printing ${LINES.toLocaleString("en-US")} lines (\`${printLines(LINES)}\`), fast guest, ` +
            `orchestrator capacity 1, ${ROUNDS} round(s) each way (alternating which goes first)`
        : `forgejo-logs --source queue: synthetic jobs of ${LINES.toLocaleString("en-US")} lines at ` +
            `${PACE.linesPerSecond.toLocaleString("en-US")} lines/s in events of ${PACE.linesPerEvent} (no orchestrator, no VM), ` +
            `${ROUNDS} round(s) each way (alternating which goes first)`,
    );
    if (WARMUP_LINES > 0) {
      // Not measured: JIT, page cache and the first connections of both paths.
      await baseline.run(WARMUP_LINES);
      await runThroughRunner(server, image.label, WARMUP_LINES);
      console.log(
        `warm-up: one job of ${WARMUP_LINES.toLocaleString("en-US")} lines each way (not measured)`,
      );
    }
    jobLines = LINES;
    const base: RowSample[][] = [];
    const runner: RowSample[][] = [];
    const baseCpu: number[] = [];
    const runnerCpu: number[] = [];
    const header = `${"".padEnd(30)} ${"rows".padStart(9)}  ${"p50 s".padStart(7)}  ${"p95 s".padStart(7)}  ${"max s".padStart(7)}  ${"rows/s".padStart(8)}`;
    for (let round = 1; round <= ROUNDS; round += 1) {
      const baselineFirst = round % 2 === 1;
      let b: RoundResult | undefined;
      if (baselineFirst) b = await withCpu(() => baseline.run(LINES));
      const r = await withCpu(() => runThroughRunner(server as ForgejoTestServer, image.label, LINES));
      if (!baselineFirst) b = await withCpu(() => baseline.run(LINES));
      if (b === undefined) throw new Error("unreachable: the baseline did not run");
      checkRows(`baseline, round ${round}`, b.samples, LINES);
      checkRows(`runner, round ${round}`, r.samples, LINES);
      base.push(b.samples);
      runner.push(r.samples);
      baseCpu.push(b.cpuUs ?? 0);
      runnerCpu.push(r.cpuUs ?? 0);
      console.log(`round ${round} (${baselineFirst ? "baseline" : "runner"} first)`);
      console.log(header);
      console.log(tableRow("  baseline (queue consumer)", summarise([b.samples])));
      console.log(
        tableRow(
          "  runner → UpdateLog",
          summarise([r.samples]),
          `  (${r.updateLogCalls} UpdateLog calls, ${r.writes} storing rows)`,
        ),
      );
      console.log(
        `  this process's CPU per row: baseline ${cpuPerRow(b.cpuUs, LINES)}, runner + test server ${cpuPerRow(r.cpuUs, LINES)}`,
      );
    }

    const b = summarise(base);
    const r = summarise(runner);
    console.log(`\nall rounds (${ROUNDS}): every line row arrived once, in order, both ways`);
    console.log(header);
    console.log(tableRow("baseline (queue consumer)", b));
    console.log(tableRow("runner → UpdateLog", r));
    const totalRows = LINES * ROUNDS;
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    console.log(
      `this process's CPU per row (all rounds): baseline ${cpuPerRow(sum(baseCpu), totalRows)}, ` +
        `runner + test server ${cpuPerRow(sum(runnerCpu), totalRows)} (the orchestrator's is in its own process)`,
    );
    console.log(
      `ratios: runner p95 / baseline p95 = ${(r.p95 / b.p95).toFixed(2)}; ` +
        `runner rows/s ÷ baseline rows/s = ${(r.rowsPerSecond / b.rowsPerSecond).toFixed(2)}`,
    );
    console.log(
      `target p95 <= ${TARGET_P95_S} s: ${r.p95 <= TARGET_P95_S ? "PASS" : "FAIL"} (runner p95 ${seconds(r.p95)})`,
    );
    const rateRatio = r.rowsPerSecond / b.rowsPerSecond;
    console.log(
      `issue 19 targets, runner p95 <= ${TARGET_P95_ISSUE19_S} s and rows/s >= ${TARGET_RATE_RATIO} x baseline: ` +
        `${r.p95 <= TARGET_P95_ISSUE19_S && rateRatio >= TARGET_RATE_RATIO ? "PASS" : "FAIL"} ` +
        `(${seconds(r.p95)}, ${rateRatio.toFixed(2)})`,
    );
    return 0;
  } finally {
    await daemon?.stop();
    await queue?.close();
    if (orchestrator !== undefined) await stopProcess(orchestrator);
    const leftovers = await killQemuUnder(dir);
    if (leftovers > 0) console.error(`killed ${leftovers} QEMU process(es) left under ${dir}`);
    await server?.close();
    await deleteMq(mq, owners[0] ?? { kind: "manual", instance: "none" }, HOST_ID);
    await deleteQueues(owners.slice(1).map((o) => ownerEventsTopology(mq, o).queue));
    await pg.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** SIGTERM (graceful: lets a running job drain), a second one after 10 s, SIGKILL after 30 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const again = setTimeout(() => child.kill("SIGTERM"), 10_000);
  const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(again);
  clearTimeout(kill);
}

/** Kills QEMU processes whose command line names `dir` (the orchestrator's VMs); returns how many. */
async function killQemuUnder(dir: string): Promise<number> {
  let killed = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("qemu-system") && cmdline.includes(dir)) {
      try {
        process.kill(Number(entry), "SIGKILL");
        killed += 1;
      } catch {
        // Already gone.
      }
    }
  }
  return killed;
}

async function deleteQueues(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    for (const name of names) await channel.deleteQueue(name);
    await channel.close();
  } finally {
    await model.close();
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof RowOrderError ? `FAIL: ${error.message}` : error);
    process.exit(1);
  },
);
