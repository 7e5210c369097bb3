import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AmqpJobQueue, type FleetView, FleetViewSchema, newJobRequest } from "@solstice/common";
import {
  DATABASE_URL,
  deleteMqByPrefix,
  eventually,
  REPO_ROOT,
  requirePostgres,
  requireRabbitMQ,
  runCli,
  TcpProxy,
  tempDir,
} from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import { fileLogger, mqPrefix, postgresSchema, testConfig, uniqueMq } from "./orchestrator-support.ts";

// The fleet view (issue 18) over real RabbitMQ and Postgres, no VM: two orchestrators in this
// process with different image maps ("fleet-a" serves lab-a; "fleet-ab" serves lab-a and lab-b),
// heartbeats every second. fleet-ab reaches Postgres through a TCP proxy that the test cuts: its
// heartbeat fails (logged once), the other host's view shows it stale, and it comes back on its
// own. `ciadm fleet` (a child process from source) prints what GET /v1/fleet answers.

const prefix = mqPrefix("fleet-view");
const mq = uniqueMq(prefix, 3);
const token = randomBytes(24).toString("hex");
const CIADM_MAIN = join(REPO_ROOT, "packages", "ciadm", "src", "main.ts");
let dir: Awaited<ReturnType<typeof tempDir>>;
let pg: Awaited<ReturnType<typeof postgresSchema>>;
let proxy: TcpProxy;
const hosts = new Map<string, RunningOrchestrator>();

async function writeMap(name: string, labels: readonly string[]): Promise<string> {
  // Images that are never booted: no job runs here. `accel: tcg` skips the KVM probe.
  const entry = {
    source: `file://${dir.path}/none.qcow2`,
    local_path: `${dir.path}/none.qcow2`,
    accel: "tcg",
  };
  const path = join(dir.path, `${name}.yaml`);
  const map = { default_label: labels[0], images: Object.fromEntries(labels.map((l) => [l, entry])) };
  await writeFile(path, `${JSON.stringify(map, null, 2)}\n`);
  return path;
}

async function start(
  hostId: string,
  labels: readonly string[],
  databaseUrl: string,
): Promise<RunningOrchestrator> {
  const config = testConfig({
    imageMapPath: await writeMap(hostId, labels),
    stateDir: join(dir.path, hostId),
    hostId,
    mq,
    databaseUrl,
    maxConcurrency: 3,
    capacityMap: "lab-a=1,lab-b=2",
    drainTimeoutSecs: 0,
  });
  const orchestrator = await startOrchestrator(
    { ...config, fleetHeartbeatSecs: 1, http: { ...config.http, token } },
    { logger: fileLogger(join(dir.path, `${hostId}.log`)) },
  );
  hosts.set(hostId, orchestrator);
  return orchestrator;
}

function apiUrl(): string {
  const url = hosts.get("fleet-a")?.httpUrl;
  if (url === undefined) throw new Error("fleet-a serves no HTTP API");
  return url;
}

async function fleet(): Promise<FleetView> {
  const res = await fetch(`${apiUrl()}/v1/fleet`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return FleetViewSchema.parse(await res.json());
}

const ciadm = (...args: string[]) =>
  runCli("ciadm", CIADM_MAIN, args, { env: { ORCH_URL: apiUrl(), ORCH_TOKEN: token }, timeoutMs: 60_000 });

/** Lines of a host's JSON log whose message is `msg`. */
async function logged(hostId: string, msg: string): Promise<number> {
  const text = await readFile(join(dir.path, `${hostId}.log`), "utf8");
  return text.split("\n").filter((line) => line.includes(`"msg":"${msg}`)).length;
}

beforeAll(async () => {
  await requireRabbitMQ();
  await requirePostgres();
  dir = await tempDir("fleet-view");
  pg = await postgresSchema("fleet");
  const server = new URL(DATABASE_URL);
  proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
  const proxied = new URL(pg.url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  await start("fleet-a", ["lab-a"], pg.url);
  await start("fleet-ab", ["lab-a", "lab-b"], proxied.toString());
}, 120_000);

afterAll(async () => {
  proxy?.resume();
  for (const host of hosts.values()) await host.stop({ drainTimeoutMs: 0 });
  await proxy?.close();
  await pg?.drop();
  await deleteMqByPrefix(prefix);
  await dir?.remove();
}, 60_000);

describe("the fleet view", { timeout: 120_000 }, () => {
  test("GET /v1/fleet lists both hosts with their labels and each label queue's consumers; it needs the token", async () => {
    const unauthorized = await fetch(`${apiUrl()}/v1/fleet`);
    expect(unauthorized.status).toBe(401);

    const view = await fleet();
    expect(view.host_id).toBe("fleet-a");
    expect(view.hosts.map((h) => [h.host_id, h.state, h.labels, h.capacity, h.running_jobs])).toEqual([
      ["fleet-a", "up", { "lab-a": 1 }, 3, 0],
      ["fleet-ab", "up", { "lab-a": 1, "lab-b": 2 }, 3, 0],
    ]);
    expect(view.hosts[0]).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      heartbeat_secs: 1,
    });
    expect(view.queues.map((q) => [q.label, q.messages, q.consumers, q.hosts])).toEqual([
      ["lab-a", 0, 2, ["fleet-a", "fleet-ab"]],
      ["lab-b", 0, 1, ["fleet-ab"]],
    ]);
    expect(view.queue_error).toBeNull();
    expect(view.dead_letters).toMatchObject({ messages: 0 });

    // Heartbeats keep coming: last_seen moves on.
    const first = view.hosts[1]?.last_seen;
    await eventually(
      "a later heartbeat of fleet-ab",
      async () => (await fleet()).hosts[1]?.last_seen !== first,
      10_000,
    );

    const table = await ciadm("fleet");
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^HOST\s+STATE\s+LABELS \(CAPACITY\)\s+CAPACITY\s+RUNNING\s+LAST SEEN\s+VERSION$/,
    );
    expect(lines[1]).toMatch(/^fleet-a\s+up\s+lab-a=1\s+3\s+0\s+\d+s ago\s+\d+\.\d+\.\d+/);
    expect(lines[2]).toMatch(/^fleet-ab\s+up\s+lab-a=1, lab-b=2\s+3\s+0\s+\d+s ago/);
    expect(table.stdout).toMatch(
      /\nLABEL\s+QUEUED\s+CONSUMERS\s+SERVED BY\nlab-a\s+0\s+2\s+fleet-a, fleet-ab\nlab-b\s+0\s+1\s+fleet-ab\n/,
    );

    const json = await ciadm("fleet", "--json");
    expect(json.code).toBe(0);
    expect(FleetViewSchema.parse(JSON.parse(json.stdout)).hosts.map((h) => h.host_id)).toEqual([
      "fleet-a",
      "fleet-ab",
    ]);
  });

  test("a host that cannot write its heartbeat shows stale, logs it once, keeps running and comes back", async () => {
    const ab = hosts.get("fleet-ab");
    proxy.cut();
    try {
      await eventually("fleet-ab stale", async () => (await fleet()).hosts[1]?.state === "stale", 30_000);
      // Several beats failed by now (one a second): one warning for the whole outage.
      await eventually(
        "a few more failed beats",
        async () => (await fleet()).hosts[1]!.last_seen_secs >= 6,
        20_000,
      );
      expect(await logged("fleet-ab", "fleet heartbeat failed")).toBe(1);
      expect(ab?.load()).toEqual({ running: 0, queued: 0 });
      const table = await ciadm("fleet");
      expect(table.stdout).toMatch(/\nfleet-ab\s+stale\s+/);
      expect(table.stdout).toContain("stale: no heartbeat for more than 3 intervals");
    } finally {
      proxy.resume();
    }
    await eventually("fleet-ab up again", async () => (await fleet()).hosts[1]?.state === "up", 30_000);
    expect(await logged("fleet-ab", "fleet heartbeat written again")).toBe(1);
  });

  test("a stopped host shows stopped; its label queue stays and holds requests for it", async () => {
    await hosts.get("fleet-ab")?.stop({ drainTimeoutMs: 0 });
    hosts.delete("fleet-ab");
    const client = await AmqpJobQueue.connect({ config: mq });
    try {
      await client.publishJob(
        newJobRequest({
          source: "manual",
          repo_url: "https://example.org/r.git",
          commit_sha: "0".repeat(40),
          runs_on: "lab-b",
        }),
      );
    } finally {
      await client.close({ timeoutMs: 5_000 });
    }
    const view = await fleet();
    expect(view.hosts.map((h) => [h.host_id, h.state, h.running_jobs])).toEqual([
      ["fleet-a", "up", 0],
      ["fleet-ab", "stopped", 0],
    ]);
    expect(view.queues.map((q) => [q.label, q.messages, q.consumers, q.hosts])).toEqual([
      ["lab-a", 0, 1, ["fleet-a"]],
      ["lab-b", 1, 0, []],
    ]);
    const table = await ciadm("fleet");
    expect(table.stdout).toMatch(/\nfleet-ab\s+stopped\s+lab-a=1, lab-b=2/);
    expect(table.stdout).toMatch(/\nlab-b\s+1\s+0\s+no host up\n/);
  });
});
