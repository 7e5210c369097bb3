import { parseHttpAddr } from "@solstice/runner-core";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callName } from "../src/http/measured-fetch.ts";
import { GitHubRig, REPO } from "./github-support.ts";

// The GitHub runner's HTTP port against the GitHub test server and real RabbitMQ, no VM: health,
// readiness, and the forge calls (the broker's message polls) timed and their failures counted.

let rig: GitHubRig;
let url: string;

beforeAll(async () => {
  rig = await GitHubRig.start("health", { withOrchestrator: false });
  rig.server.addRepository(REPO);
  await rig.register();
  const daemon = await rig.startDaemon({ httpAddr: parseHttpAddr("127.0.0.1:0") });
  url = daemon.httpUrl ?? "";
});
afterAll(async () => {
  await rig?.stop();
});

async function get(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, text: await res.text() };
}

async function metric(line: string): Promise<number | undefined> {
  const { text } = await get("/metrics");
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe("solstice-github-runner daemon --http-addr", () => {
  it("answers /healthz and /readyz, and times the message polls", async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await get("/healthz")).toEqual({ status: 200, text: '{"status":"ok"}' });
    await eventually("ready", async () => (await get("/readyz")).status === 200, 15_000);
    expect(JSON.parse((await get("/readyz")).text)).toEqual({
      status: "ready",
      checks: { forge: "ok", broker: "ok" },
    });
    await eventually(
      "a message poll timed",
      async () =>
        ((await metric('solstice_runner_forge_call_duration_seconds_count{call="message"}')) ?? 0) > 0,
      15_000,
    );
    expect(await metric("solstice_runner_tasks_running")).toBe(0);
    expect(await metric('solstice_runner_tasks_finished_total{conclusion="failure"}')).toBe(0);
  });

  it("counts refused polls by call and HTTP status; /readyz says why while the forge refuses", async () => {
    rig.server.failNext("get-message", { count: 1, status: 503 });
    await eventually(
      "the refusal counted",
      async () => (await metric('solstice_runner_forge_call_errors_total{call="message",code="503"}')) === 1,
      30_000,
    );
    // Until the next poll, 15-30 s later (pollRetryDelay): not ready, with the reason. Ready again
    // takes any answered call, as at start (the first test).
    const readiness = await get("/readyz");
    expect(readiness.status).toBe(503);
    expect(JSON.parse(readiness.text)).toMatchObject({ checks: { forge: expect.stringContaining("503") } });
  });
});

describe("callName", () => {
  it.each([
    ["https://broker.actions.githubusercontent.com/message?sessionId=1&status=Online", "message"],
    ["https://broker.example/acquirejob", "acquirejob"],
    [
      "https://results.example/twirp/github.actions.results.api.v1.ArtifactService/CreateStepLogsMetadata",
      "CreateStepLogsMetadata",
    ],
    ["https://pipelines.example/abc123/_apis/distributedtask/pools/1/messages/42", "messages"],
    ["https://blob.example/1f0e0c4e-9a0b-4a4f-8d1e-1c2b3a4d5e6f/7f0e0c4e-9a0b.txt?sig=x", "other"],
    ["not a url", "other"],
  ])("%s → %s", (input, expected) => {
    expect(callName(input)).toBe(expected);
  });
});
