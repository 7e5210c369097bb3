import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  AmqpJobQueue,
  type FleetView,
  FleetViewSchema,
  type JobRequest,
  jsonMessage,
  newJobRequest,
} from "@solstice/common";
import {
  deleteMqByPrefix,
  eventually,
  GitServer,
  requireRabbitMQ,
  tempDir,
  writeFastGuestImageMap,
} from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import {
  EventCollector,
  fileLogger,
  killLeftoverQemu,
  mqPrefix,
  postgresSchema,
  testConfig,
  uniqueMq,
} from "./orchestrator-support.ts";

// A heterogeneous fleet on one broker and one database: two orchestrators in this process with
// different image maps (host "a-only" serves label lab-a; host "a-and-b" serves lab-a and lab-b,
// both on the fast guest), real RabbitMQ, Postgres and QEMU. Requests are published as runners
// publish them (and once the original's way); where each job ran is read from the store.

const owner = { kind: "forgejo" as const, instance: "https://forge.test#routing", task_id: "9" };
const prefix = mqPrefix("routing");
const mq = uniqueMq(prefix, 2);
let dir: Awaited<ReturnType<typeof tempDir>>;
let git: GitServer;
let pg: Awaited<ReturnType<typeof postgresSchema>>;
let repo: { sha: string; guestUrl: string };
let client: AmqpJobQueue;
let events: EventCollector;
const hosts = new Map<string, RunningOrchestrator>();
const maps: Record<string, string> = {};

async function writeMap(name: string, labels: readonly string[]): Promise<string> {
  const { image } = await writeFastGuestImageMap(dir.path);
  const entry = {
    source: image.source,
    local_path: image.localPath,
    format: image.format,
    nocloud: true,
    ssh_user: image.sshUser,
    kernel: image.kernel,
    initrd: image.initrd,
    append: image.append,
    defaults: { cpu: 1, ram_mb: 512, disk_gb: 1 },
  };
  const path = join(dir.path, `${name}.yaml`);
  const map = { default_label: labels[0], images: Object.fromEntries(labels.map((l) => [l, entry])) };
  await writeFile(path, `${JSON.stringify(map, null, 2)}\n`);
  return path;
}

async function start(hostId: string): Promise<RunningOrchestrator> {
  const config = testConfig({
    imageMapPath: maps[hostId] ?? "",
    stateDir: join(dir.path, hostId),
    hostId,
    mq,
    databaseUrl: pg.url,
    maxConcurrency: 2,
    capacityMap: "lab-a=1,lab-b=1",
    drainTimeoutSecs: 300,
  });
  const orchestrator = await startOrchestrator(config, {
    logger: fileLogger(join(dir.path, `${hostId}.log`)),
    engine: { sshTimeoutMs: 240_000 },
  });
  hosts.set(hostId, orchestrator);
  return orchestrator;
}

beforeAll(async () => {
  await requireRabbitMQ();
  dir = await tempDir("orch-routing");
  git = await GitServer.start();
  pg = await postgresSchema("routing");
  repo = await git.createRepo("routing", { "hello.txt": "hello\n" });
  maps["a-only"] = await writeMap("a-only", ["lab-a"]);
  maps["a-and-b"] = await writeMap("a-and-b", ["lab-a", "lab-b"]);
  await start("a-only");
  await start("a-and-b");
  client = await AmqpJobQueue.connect({ config: mq });
  events = await EventCollector.subscribe(client, owner);
});

afterAll(async () => {
  await events?.close();
  await client?.close();
  for (const host of hosts.values()) await host.stop({ drainTimeoutMs: 0 });
  await git?.stop();
  const killed = [];
  for (const id of ["a-only", "a-and-b"]) killed.push(...(await killLeftoverQemu(join(dir.path, id))));
  await pg?.drop();
  await deleteMqByPrefix(prefix);
  await dir?.remove();
  expect(killed).toEqual([]);
});

function job(runsOn: string, run = "cat hello.txt"): JobRequest {
  return newJobRequest({
    source: "forgejo",
    repo_url: repo.guestUrl,
    commit_sha: repo.sha,
    runs_on: runsOn,
    owner,
    steps: [{ name: "Run", run }],
  });
}

async function ranOn(request: JobRequest): Promise<string> {
  const finished = await events.finished(request.request_id);
  expect(finished.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
  const row = await hosts.get("a-only")!.store.getJob(request.request_id);
  return row?.hostId ?? "(not recorded)";
}

/** `GET /v1/fleet` as one host answers it: host id → [state, labels]. */
async function fleetFrom(
  hostId: string,
): Promise<Record<string, [string, FleetView["hosts"][number]["labels"]]>> {
  const view = FleetViewSchema.parse(await (await fetch(`${hosts.get(hostId)?.httpUrl}/v1/fleet`)).json());
  return Object.fromEntries(view.hosts.map((h) => [h.host_id, [h.state, h.labels]]));
}

describe("jobs routed by label across two orchestrators", () => {
  test("B runs only where B is served, A on both; a request published the original's way runs", async () => {
    const a1 = job("lab-a", "sleep 2; cat hello.txt");
    const a2 = job("lab-a", "sleep 2; cat hello.txt");
    const legacyB = job("lab-b");
    await client.publishJob(a1);
    await client.publishJob(a2);
    // The original's way: exchange solstice.jobs, routing key jobrequest.v1, no label route.
    await client.broker.publish(
      jsonMessage(legacyB, {
        exchange: mq.exchange,
        routingKey: mq.routingKey,
        messageId: legacyB.request_id,
        schema: "jobrequest.v1",
      }),
    );
    expect(await ranOn(legacyB)).toBe("a-and-b");
    // Two idle consumers with prefetch 1 on lab-a: RabbitMQ gives one request to each.
    expect([await ranOn(a1), await ranOn(a2)].sort()).toEqual(["a-and-b", "a-only"]);
    // The fleet view (issue 18) lists both hosts with their labels and per-label capacity.
    expect(await fleetFrom("a-only")).toEqual({
      "a-and-b": ["up", { "lab-a": 1, "lab-b": 1 }],
      "a-only": ["up", { "lab-a": 1 }],
    });
  });

  test("a label no host serves is dead-lettered with the reason within seconds, its owner told", async () => {
    const request = job("lab-z");
    const sent = Date.now();
    await client.publishJob(request);
    const finished = await events.finished(request.request_id, 30_000);
    expect(finished.at(-1)).toMatchObject({
      type: "job_finished",
      conclusion: "failure",
      reason: "job request refused: no orchestrator serves label lab-z",
    });
    await eventually(
      "the dead letter",
      async () => (await client.deadLetters.list()).some((l) => l.messageId === request.request_id),
      30_000,
    );
    const letter = (await client.deadLetters.list()).find((l) => l.messageId === request.request_id);
    expect(letter).toMatchObject({
      code: "JOB_LABEL_UNSERVED",
      reason: "no orchestrator serves label lab-z",
    });
    expect(Date.now() - sent).toBeLessThan(30_000);
    await client.deadLetters.purge();
  });

  test("the B host stopped mid-run: queued B requests wait in their queue and run when it returns", async () => {
    const running = job("lab-b", "echo started; sleep 5");
    await client.publishJob(running);
    await events.waitFor(running.request_id, (e) => e.type === "job_started");
    const waiting = [job("lab-b"), job("lab-b"), job("lab-b")];
    for (const request of waiting) await client.publishJob(request);
    // Drains: the running job (and the one the intake had accepted) finish; the rest stay queued.
    const stopping = hosts.get("a-and-b")!.stop();
    await eventually(
      "a-and-b draining in the fleet view",
      async () => (await fleetFrom("a-only"))["a-and-b"]?.[0] === "draining",
      30_000,
    );
    const report = await stopping;
    expect(report.drained).toBe(true);
    expect((await fleetFrom("a-only"))["a-and-b"]?.[0]).toBe("stopped");
    hosts.delete("a-and-b");
    const depths = await client.inspectJobQueues(["lab-b"]);
    expect(depths.labels[0]).toMatchObject({ label: "lab-b", consumers: 0 });
    const left = depths.labels[0]?.messages ?? 0;
    expect(left).toBeGreaterThan(0);
    await start("a-and-b");
    for (const request of [running, ...waiting]) expect(await ranOn(request)).toBe("a-and-b");
    expect((await client.inspectJobQueues(["lab-b"])).labels[0]?.messages).toBe(0);
  });
});
