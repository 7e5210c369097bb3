import { renderPrometheus } from "@solstice/common";
import { afterEach, describe, expect, test } from "vitest";
import { RunnerHttpAddrError, RunnerHttpListenError } from "../src/errors.ts";
import { type HealthServer, startHealthServer } from "../src/health/health-server.ts";
import { parseHttpAddr } from "../src/health/http-addr.ts";
import { RunnerMetrics } from "../src/health/runner-metrics.ts";

describe("parseHttpAddr", () => {
  test.each([
    ["127.0.0.1:9465", { host: "127.0.0.1", port: 9465 }],
    ["[::1]:9465", { host: "::1", port: 9465 }],
    ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
    [" localhost:80 ", { host: "localhost", port: 80 }],
  ])("%s", (value, expected) => {
    expect(parseHttpAddr(value)).toEqual(expected);
  });

  test.each(["9465", ":9465", "host:", "host:65536", "a b:1", "[::1]", "http://x:1"])(
    "refuses %j",
    (value) => {
      expect(() => parseHttpAddr(value)).toThrow(RunnerHttpAddrError);
    },
  );
});

describe("RunnerMetrics", () => {
  test("every family present before anything happened, finished tasks at zero per conclusion", () => {
    const text = renderPrometheus(new RunnerMetrics().collect({ running: 0 }));
    expect(text.split("\n").filter((l) => !l.startsWith("#") && l !== "")).toEqual([
      "solstice_runner_tasks_running 0",
      "solstice_runner_tasks_started_total 0",
      'solstice_runner_tasks_finished_total{conclusion="cancelled"} 0',
      'solstice_runner_tasks_finished_total{conclusion="failure"} 0',
      'solstice_runner_tasks_finished_total{conclusion="success"} 0',
    ]);
    expect(text).toContain("# TYPE solstice_runner_forge_call_duration_seconds histogram");
    expect(text).toContain("# TYPE solstice_runner_forge_call_errors_total counter");
  });

  test("calls timed by name, errors counted by name and code; readiness follows the last call", async () => {
    const metrics = new RunnerMetrics();
    await expect(metrics.forgeReady()).rejects.toThrow(/no call to the forge has answered yet/);
    metrics.observeForgeCall({ call: "FetchTask", seconds: 0.02 });
    await expect(metrics.forgeReady()).resolves.toBeUndefined();
    metrics.observeForgeCall({ call: "UpdateLog", seconds: 3, error: "unavailable" });
    await expect(metrics.forgeReady()).rejects.toThrow("the last forge call (UpdateLog) failed: unavailable");
    metrics.taskStarted();
    metrics.taskFinished("failure");
    const lines = renderPrometheus(metrics.collect({ running: 2 })).split("\n");
    expect(lines).toContain("solstice_runner_tasks_running 2");
    expect(lines).toContain("solstice_runner_tasks_started_total 1");
    expect(lines).toContain('solstice_runner_tasks_finished_total{conclusion="failure"} 1');
    expect(lines).toContain(
      'solstice_runner_forge_call_duration_seconds_bucket{call="FetchTask",le="0.025"} 1',
    );
    expect(lines).toContain(
      'solstice_runner_forge_call_duration_seconds_bucket{call="UpdateLog",le="2.5"} 0',
    );
    expect(lines).toContain('solstice_runner_forge_call_duration_seconds_count{call="UpdateLog"} 1');
    expect(lines).toContain('solstice_runner_forge_call_errors_total{call="UpdateLog",code="unavailable"} 1');
    expect(lines.some((l) => l.startsWith('solstice_runner_forge_call_errors_total{call="FetchTask"'))).toBe(
      false,
    );
  });
});

describe("startHealthServer", () => {
  const servers: HealthServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  async function start(probes: Record<string, () => Promise<void>>): Promise<HealthServer> {
    const server = await startHealthServer({
      addr: parseHttpAddr("127.0.0.1:0"),
      metrics: () => new RunnerMetrics().collect({ running: 1 }),
      probes,
      probeTimeoutMs: 200,
    });
    servers.push(server);
    return server;
  }

  test("/healthz, /readyz (each probe's answer), /metrics; 404 and 405 otherwise", async () => {
    const server = await start({
      forge: async () => undefined,
      broker: async () => {
        throw new Error("not connected to RabbitMQ");
      },
      slow: () => new Promise(() => undefined),
    });
    const healthz = await fetch(`${server.url}/healthz`);
    expect([healthz.status, await healthz.json()]).toEqual([200, { status: "ok" }]);
    const readyz = await fetch(`${server.url}/readyz`);
    expect([readyz.status, await readyz.json()]).toEqual([
      503,
      {
        status: "not ready",
        checks: { forge: "ok", broker: "not connected to RabbitMQ", slow: "no answer within 200 ms" },
      },
    ]);
    const metrics = await fetch(`${server.url}/metrics?x=1`);
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await metrics.text()).toContain("solstice_runner_tasks_running 1\n");
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    const post = await fetch(`${server.url}/healthz`, { method: "POST" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  });

  test("ready when every probe passes", async () => {
    const server = await start({ forge: async () => undefined });
    const readyz = await fetch(`${server.url}/readyz`);
    expect([readyz.status, await readyz.json()]).toEqual([200, { status: "ready", checks: { forge: "ok" } }]);
  });

  test("a port in use: RunnerHttpListenError with the address", async () => {
    const first = await start({});
    const port = Number(new URL(first.url).port);
    const second = startHealthServer({ addr: { host: "127.0.0.1", port }, metrics: () => [], probes: {} });
    await expect(second).rejects.toThrow(RunnerHttpListenError);
    await expect(second).rejects.toThrow(`cannot listen on 127.0.0.1:${port}`);
  });
});
