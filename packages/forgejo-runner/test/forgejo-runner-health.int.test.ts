import { AmqpJobQueue, JobEventSchema, type JobRequest } from "@solstice/common";
import { Code } from "@solstice/forgejo-protocol";
import { parseHttpAddr } from "@solstice/runner-core";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunnerDaemon } from "../src/daemon/runner-daemon.ts";
import { ForgejoRig, LABEL } from "./forgejo-support.ts";

// The runner's HTTP port against the Forgejo protocol test server and real RabbitMQ, no VM: the
// test plays the orchestrator (takes the job request from its label queue, answers with events),
// and the server fails calls on demand.

let rig: ForgejoRig;
let daemon: RunnerDaemon;
let client: AmqpJobQueue;
const requests: JobRequest[] = [];

beforeAll(async () => {
  rig = await ForgejoRig.start("health", { withOrchestrator: false });
  await rig.register();
  client = await AmqpJobQueue.connect({ config: rig.mq });
  await client.consumeLabelJobs(
    LABEL,
    [],
    async (request) => {
      requests.push(request);
    },
    { prefetch: 10 },
  );
  daemon = await rig.startDaemon({ httpAddr: parseHttpAddr("127.0.0.1:0") });
});
afterAll(async () => {
  await client?.close();
  await rig?.stop();
});

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${daemon.httpUrl}${path}`);
  return { status: res.status, text: await res.text() };
}

async function metric(line: string): Promise<number | undefined> {
  const { text } = await get("/metrics");
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe("solstice-forgejo-runner daemon --http-addr", () => {
  it("answers /healthz, and /readyz once Forgejo and RabbitMQ answered", async () => {
    expect(daemon.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await get("/healthz")).toEqual({ status: 200, text: '{"status":"ok"}' });
    await eventually("ready", async () => (await get("/readyz")).status === 200, 10_000);
    expect(JSON.parse((await get("/readyz")).text)).toEqual({
      status: "ready",
      checks: { forge: "ok", broker: "ok" },
    });
    expect((await get("/nope")).status).toBe(404);
    expect((await fetch(`${daemon.httpUrl}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("counts a task from start to end, and times the report calls", async () => {
    expect(await metric('solstice_runner_tasks_finished_total{conclusion="success"}')).toBe(0);
    const workflow = `on: push\njobs:\n  j:\n    runs-on: ${LABEL}\n    steps:\n      - run: echo hi\n`;
    const task = rig.server.addTask({ workflow });
    await eventually("the job request published", () => requests.length === 1, 10_000);
    expect(await metric("solstice_runner_tasks_running")).toBe(1);
    expect(await metric("solstice_runner_tasks_started_total")).toBe(1);
    const request = requests[0];
    if (request === undefined) throw new Error("no request");
    const at = new Date().toISOString();
    const base = { request_id: request.request_id, timestamp: at };
    for (const event of [
      { ...base, type: "job_started", seq: 0 },
      { ...base, type: "job_finished", seq: 1, conclusion: "success" },
    ]) {
      await client.publishEvent(JobEventSchema.parse(event), request.owner);
    }
    await eventually(
      "the task finished in Forgejo",
      () => rig.server.task(task.id).status !== "running",
      15_000,
    );
    await eventually(
      "the end counted",
      async () => (await metric('solstice_runner_tasks_finished_total{conclusion="success"}')) === 1,
      5_000,
    );
    expect(await metric("solstice_runner_tasks_running")).toBe(0);
    const updateTasks = await metric('solstice_runner_forge_call_duration_seconds_count{call="UpdateTask"}');
    expect(updateTasks).toBeGreaterThan(0);
    expect(
      await metric('solstice_runner_forge_call_duration_seconds_count{call="FetchTask"}'),
    ).toBeGreaterThan(0);
  });

  it("counts forge errors by call and code, then is ready again once a fetch succeeds", async () => {
    rig.server.failNext("FetchTask", 3, Code.Unavailable);
    await eventually(
      "the errors counted",
      async () =>
        (await metric('solstice_runner_forge_call_errors_total{call="FetchTask",code="unavailable"}')) === 3,
      15_000,
    );
    // The fetches succeed again afterwards: ready again.
    await eventually("ready again", async () => (await get("/readyz")).status === 200, 15_000);
  });
});
