import { Writable } from "node:stream";
import { initTelemetry, mqConfigEnv, type Telemetry } from "@solstice/common";
import { parseRunnerLabels } from "@solstice/runner-core";
import {
  childrenOf,
  drawTree,
  eventually,
  freePort,
  OrchestratorProcess,
  OtlpReceiver,
  type ReceivedSpan,
  writeFastGuestImageMap,
} from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunnerDaemon } from "../src/daemon/runner-daemon.ts";
import { ForgejoRig, LABEL, makeRepository } from "./forgejo-support.ts";

// Traces and logs end to end (issue 16), against an in-process OTLP/HTTP receiver (JSON
// encoding): the Forgejo runner in this process and a real orchestrator process on the fast guest
// both export to it. One job gives one trace rooted at the Forgejo task, with the VM's phases and
// each step in order beneath the orchestrator's job span; a 10,000-line job's trace stays small;
// both services' log lines carry the trace id. Two jobs, one VM each, through the same services.

const REPO = "acme/traced";
const HOST_ID = "fj-traces-host";

let rig: ForgejoRig;
let sha: string;
let receiver: OtlpReceiver;
let telemetry: Telemetry;
let orchestrator: OrchestratorProcess;
const runnerLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  rig = await ForgejoRig.start("traces", { withOrchestrator: false });
  const { path: imageMap, image } = await writeFastGuestImageMap(rig.dir);
  const httpPort = await freePort();
  orchestrator = OrchestratorProcess.start({
    ...mqConfigEnv(rig.mq),
    ORCH_CONFIG: imageMap,
    MAX_CONCURRENCY: "1",
    CAPACITY_MAP: `${image.label}=1`,
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    HOST_ID,
    STATE_DIR: `${rig.dir}/orchestrator`,
    // The orchestrator's OTLP setting (its --otlp) must reach the exporter.
    ...receiver.exporterEnv(500),
  });
  await orchestrator.waitReady(`http://127.0.0.1:${httpPort}`);

  const repo = await makeRepository(rig.dir, { "hello.txt": "hello from the repository\n" });
  sha = repo.sha;
  rig.server.addRepository(REPO, repo.path, { private: true });
  await rig.register();
  telemetry = initTelemetry({
    serviceName: "solstice-forgejo-runner",
    serviceVersion: "0.0.0-test",
    otlpEndpoint: receiver.url,
    env: { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    logLevel: "debug",
    logDestination: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString().split("\n"))
          if (line.trim() !== "") runnerLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });
  rig.daemon = await startRunnerDaemon(
    {
      stateFile: rig.stateFile,
      labels: parseRunnerLabels([LABEL, "fast"]),
      capacity: 1,
      mq: rig.mq,
      fetchIntervalMs: 200,
      reportIntervalMs: 300,
    },
    telemetry.logger,
  );
}, 180_000);

afterAll(async () => {
  await rig?.daemon?.stop();
  await telemetry?.shutdown();
  await orchestrator?.stop("SIGTERM");
  await rig?.stop();
  await receiver?.close();
});

async function runTask(workflow: string) {
  const task = rig.server.addTask({ workflow, repository: REPO, sha });
  return rig.server.waitForTask(task.id, (t) => t.status === "done" && t.noMore, 240_000);
}

/** The trace whose root is the task `taskId`, once its orchestrator job span has arrived too. */
async function traceOfTask(taskId: string): Promise<ReceivedSpan[]> {
  let spans: ReceivedSpan[] = [];
  await eventually(
    `the trace of task ${taskId}`,
    async () => {
      // The runner's spans leave in batches; the orchestrator's every 500 ms.
      await telemetry.flush();
      const root = receiver.spans.find(
        (s) => s.name === "forgejo task" && s.attributes["solstice.forge.task_id"] === taskId,
      );
      if (root === undefined) return false;
      spans = receiver.trace(root.traceId);
      return spans.some((s) => s.name === "orchestrator job") && spans.some((s) => s.name === "teardown");
    },
    60_000,
    250,
  );
  return spans;
}

/** `span`'s parent, its parent, ... up to the root. */
function ancestors(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  let parent = spans.find((s) => s.spanId === span.parentSpanId);
  while (parent !== undefined && chain.length < 100) {
    chain.push(parent);
    const id = parent.parentSpanId;
    parent = spans.find((s) => s.spanId === id);
  }
  return chain;
}

function one(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name);
  expect(
    found.map((s) => s.name),
    `exactly one ${name}`,
  ).toEqual([name]);
  return found[0] as ReceivedSpan;
}

describe("a job's trace and logs", () => {
  it("is one trace from the Forgejo task down to each step, with the VM's phases in order, and logs carry it", async () => {
    const task = await runTask(`on: push
jobs:
  build:
    runs-on: fast
    steps:
      - uses: actions/checkout@v4
      - name: Greet
        run: cat hello.txt
      - name: Fail softly
        run: exit 3
`);
    expect(task.result).toBeDefined();
    const spans = await traceOfTask(String(task.id));
    process.stdout.write(
      `\n--- span tree of a job (forgejo-runner-traces.vm.test.ts) ---\n${drawTree(spans)}\n`,
    );

    // One trace, no orphans: every parent is in the trace, and one root.
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => s.parentSpanId === "");
    expect(roots.map((s) => s.name)).toEqual(["forgejo task"]);
    for (const span of spans)
      if (span.parentSpanId !== "") expect(ids.has(span.parentSpanId), span.name).toBe(true);

    // The runner: fetch, translation, publish, report calls under the task.
    const root = roots[0] as ReceivedSpan;
    expect(root.service).toBe("solstice-forgejo-runner");
    expect(root.resource["service.version"]).toBe("0.0.0-test");
    const underRoot = childrenOf(spans, root).map((s) => s.name);
    expect(underRoot.slice(0, 2)).toEqual(["forgejo FetchTask", "translate task"]);
    expect(underRoot).toContain(`publish ${rig.mq.exchange}`);
    expect(underRoot).toContain("forgejo UpdateLog");
    expect(underRoot).toContain("forgejo UpdateTask");
    expect(root.attributes["solstice.request_id"]).toEqual(expect.any(String));

    // task → publish → process (the orchestrator's intake) → the job, whose children are its
    // phases in order.
    const job = one(spans, "orchestrator job");
    const chain = ancestors(spans, job);
    expect(chain[0]).toMatchObject({ name: `process ${rig.mq.exchange}`, service: "solstice-orchestrator" });
    expect(chain.at(-1)).toBe(root);
    expect(chain.at(-2)).toMatchObject({
      name: `publish ${rig.mq.exchange}`,
      service: "solstice-forgejo-runner",
    });
    expect(job.resource["host.id"]).toBe(HOST_ID);
    expect(job.resource["service.version"]).toEqual(expect.any(String));
    expect(job.attributes).toMatchObject({
      "solstice.request_id": root.attributes["solstice.request_id"],
      "solstice.label": LABEL,
      "solstice.host_id": HOST_ID,
      "solstice.attempt": 1,
      "solstice.vm.accel": expect.any(String),
    });
    const phases = childrenOf(spans, job)
      .map((s) => s.name)
      .filter((name) => !name.startsWith("publish "));
    expect(phases).toEqual([
      "wait for capacity",
      "vm prepare",
      "qemu start",
      "boot to ssh",
      "workspace checkout",
      "step",
      "step",
      "step",
      "teardown",
    ]);
    const boot = one(spans, "boot to ssh");
    expect(boot.events.length).toBeGreaterThan(0);
    expect(boot.events.map((e) => e.attributes["solstice.console.milestone"])).toContainEqual(
      expect.stringMatching(/ssh|network|seed/),
    );
    const steps = childrenOf(spans, job).filter((s) => s.name === "step");
    expect(
      steps.map((s) => [s.attributes["solstice.step.index"], s.attributes["solstice.step.exit_code"]]),
    ).toEqual([
      [0, 0],
      [1, 0],
      [2, 3],
    ]);
    expect(steps[2]?.attributes["solstice.step.outcome"]).toBe("failure");
    expect(steps[2]?.statusCode).toBe(2);
    // Event publishes: one per lifecycle event (none per log line), all inside the job.
    const eventPublishes = spans.filter((s) => s.name === `publish ${rig.mq.eventsExchange}`);
    expect(eventPublishes.length).toBeGreaterThanOrEqual(2 + 2 * 3);
    for (const span of eventPublishes) expect(ancestors(spans, span)).toContain(job);

    // Logs: the runner's lines about this task and the orchestrator's about this job carry the trace.
    const requestId = String(root.attributes["solstice.request_id"]);
    const published = runnerLines.find(
      (l) => l["msg"] === "task published as a job" && l["requestId"] === requestId,
    );
    expect(published).toMatchObject({
      trace_id: root.traceId,
      span_id: expect.any(String),
      request_id: requestId,
    });
    const orchestratorLines = orchestrator
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const finished = orchestratorLines.find(
      (l) => l["msg"] === "job finished" && l["requestId"] === requestId,
    );
    expect(finished).toMatchObject({ trace_id: root.traceId, request_id: requestId });
    expect(receiver.rejected).toBe(0);
  }, 300_000);

  it("keeps a 10,000-line job's trace small", async () => {
    const task = await runTask(`on: push
jobs:
  build:
    runs-on: fast
    steps:
      - name: Many lines
        run: |
          i=1; while [ $i -le 10000 ]; do echo "line $i"; i=$((i+1)); done
`);
    expect(task.rows.filter((r) => /^line \d+$/.test(r.content))).toHaveLength(10_000);
    const spans = await traceOfTask(String(task.id));
    expect(spans.length).toBeGreaterThan(10);
    expect(spans.length).toBeLessThan(500);
    process.stdout.write(`\n--- 10,000-line job: ${spans.length} spans ---\n${drawTree(spans)}\n`);
    // Span names are bounded: never the per-runner queue's name.
    for (const span of spans) expect(span.name).not.toContain(rig.daemon?.owner.instance ?? "#");
  }, 300_000);
});
