import { join } from "node:path";
import {
  AmqpJobQueue,
  type JobEvent,
  JobEventSchema,
  type JobRequest,
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
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openDatabase } from "../src/persistence/open-database.ts";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import {
  EventCollector,
  fileLogger,
  killLeftoverQemu,
  leftovers,
  mqPrefix,
  postgresSchema,
  testConfig,
  uniqueMq,
} from "./orchestrator-support.ts";

// The service in fleet mode, in this process: real RabbitMQ (names unique to this file), real
// Postgres (a private schema), real QEMU with the fast guest. Jobs are published through
// @solstice/common as a runner service would, and their events consumed from the owner's queue.

const owner = { kind: "forgejo" as const, instance: "https://forge.test#fleet", task_id: "7" };
const prefix = mqPrefix("fleet");
let dir: Awaited<ReturnType<typeof tempDir>>;
let stateDir: string;
let git: GitServer;
let pg: Awaited<ReturnType<typeof postgresSchema>>;
let orchestrator: RunningOrchestrator | undefined;
let client: AmqpJobQueue;
let events: EventCollector;
let repo: { sha: string; guestUrl: string };

beforeAll(async () => {
  await requireRabbitMQ();
  dir = await tempDir("orch-fleet");
  stateDir = join(dir.path, "state");
  git = await GitServer.start();
  pg = await postgresSchema("fleet");
  const { path } = await writeFastGuestImageMap(dir.path);
  const mq = uniqueMq(prefix, 2);
  const config = testConfig({ imageMapPath: path, stateDir, hostId: "fleet-a", mq, databaseUrl: pg.url });
  expect(config.embedded).toBe(false);
  orchestrator = await startOrchestrator(config, {
    logger: fileLogger(join(dir.path, "service.log")),
    engine: { sshTimeoutMs: 240_000 },
  });
  // The runner side: its own connection, as another service would have.
  client = await AmqpJobQueue.connect({ config: mq });
  events = await EventCollector.subscribe(client, owner);
  repo = await git.createRepo("fleet", { "hello.txt": "hello from the fleet repo\n" });
});

afterAll(async () => {
  await events?.close();
  await client?.close();
  await orchestrator?.stop({ drainTimeoutMs: 0 });
  await git?.stop();
  const killed = stateDir === undefined ? [] : await killLeftoverQemu(stateDir);
  await pg?.drop();
  await deleteMqByPrefix(prefix);
  await dir?.remove();
  expect(killed).toEqual([]);
});

function job(fields: Partial<JobRequest> = {}): JobRequest {
  return newJobRequest({
    source: "forgejo",
    repo_url: repo.guestUrl,
    commit_sha: repo.sha,
    runs_on: "fast",
    owner,
    ...fields,
  });
}

function texts(events: readonly JobEvent[], step: number | null): string[] {
  return events
    .filter((e) => e.type === "log" && e.step === step)
    .map((e) => (e.type === "log" ? e.text : ""));
}

async function rowFinished(requestId: string) {
  const orch = orchestrator!;
  await eventually(`job ${requestId} finished in the store`, async () => {
    return (await orch.store.getJob(requestId))?.state === "finished";
  });
  return orch.store.getJob(requestId);
}

async function metric(name: string): Promise<string> {
  const body = await (await fetch(`${orchestrator!.httpUrl}/metrics`)).text();
  return body
    .split("\n")
    .filter((l) => l.startsWith(name))
    .join("\n");
}

describe("the orchestrator service with RabbitMQ and Postgres", () => {
  test("jobs published through common run; events in order without gaps; rows finished with the right conclusion", async () => {
    const pass = job({
      steps: [
        { name: "Read", run: "cat hello.txt" },
        { name: "Stderr", run: "echo warn >&2" },
        { name: "Answer", run: "echo $((6 * 7))" },
      ],
    });
    const fail = job({
      steps: [
        { name: "Before", run: "echo before" },
        { name: "Fails", run: "echo failing; exit 3" },
        { name: "Never", run: "echo never" },
      ],
    });
    await client.publishJob(pass);
    await client.publishJob(fail);

    const passed = await events.finished(pass.request_id);
    const failed = await events.finished(fail.request_id);
    for (const [request, ordered] of [
      [pass, passed],
      [fail, failed],
    ] as const) {
      for (const e of ordered) JobEventSchema.parse(e);
      expect(ordered.map((e) => e.seq)).toEqual(ordered.map((_, i) => i));
      expect(events.problems(request.request_id)).toEqual({ missing: [], duplicates: [] });
      expect(ordered[0]).toMatchObject({
        type: "job_started",
        host: "fleet-a",
        label: "solstice-fast-guest",
      });
    }
    expect(passed.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    expect(texts(passed, 0)).toContain("hello from the fleet repo");
    expect(texts(passed, 1)).toContain("warn");
    expect(texts(passed, 2)).toContain("42");
    expect(failed.at(-1)).toMatchObject({ type: "job_finished", conclusion: "failure" });
    expect(
      failed
        .filter((e) => e.type === "step_finished")
        .map((e) => (e.type === "step_finished" ? e.exit_code : -1)),
    ).toEqual([0, 3, null]);
    expect(texts(failed, 2)).toEqual([]);

    expect(await rowFinished(pass.request_id)).toMatchObject({ conclusion: "success", hostId: "fleet-a" });
    expect(await rowFinished(fail.request_id)).toMatchObject({ conclusion: "failure" });
    expect((await orchestrator!.store.getJob(fail.request_id))?.reason).toMatch(/exit|3/);
    expect((await orchestrator!.store.vmsForJob(pass.request_id)).map((v) => v.state)).toEqual(["destroyed"]);
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });
  });

  test("no table holds SSH key material after jobs ran", async () => {
    const db = await openDatabase({ kind: "postgres", url: pg.url });
    try {
      const columns = await sql<{ table_name: string; column_name: string }>`
        select table_name, column_name from information_schema.columns
        where table_schema = current_schema()`.execute(db);
      expect(columns.rows.length).toBeGreaterThan(20);
      const needles = ["PRIVATE KEY", "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5", "b3BlbnNzaC1rZXktdjE"];
      const found: string[] = [];
      for (const { table_name, column_name } of columns.rows) {
        for (const needle of needles) {
          const hits = await sql<{ n: number }>`
            select count(*)::int as n from ${sql.table(table_name)}
            where position(${needle} in ${sql.ref(column_name)}::text) > 0`.execute(db);
          if ((hits.rows[0]?.n ?? 0) > 0) found.push(`${table_name}.${column_name}: ${needle}`);
        }
      }
      expect(found).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  test("a request for a label no host serves is dead-lettered with the reason, its owner told at once", async () => {
    const request = job({ runs_on: "plan9-4th-edition", steps: [{ run: "echo never" }] });
    await client.publishJob(request);
    const ordered = await events.finished(request.request_id, 60_000);
    expect(ordered.map((e) => e.seq)).toEqual(ordered.map((_, i) => i));
    expect(ordered.at(-1)).toEqual(
      expect.objectContaining({
        type: "job_finished",
        conclusion: "failure",
        reason: "job request refused: no orchestrator serves label plan9-4th-edition",
      }),
    );
    expect(ordered.some((e) => e.type === "job_started")).toBe(false);
    let letter: Awaited<ReturnType<typeof client.deadLetters.list>>[number] | undefined;
    await eventually("the request in the DLQ", async () => {
      letter = (await client.deadLetters.list()).find((l) => l.messageId === request.request_id);
      return letter !== undefined;
    });
    expect(letter).toMatchObject({
      code: "JOB_LABEL_UNSERVED",
      reason: "no orchestrator serves label plan9-4th-edition",
    });
    expect(await orchestrator!.store.getJob(request.request_id)).toBeUndefined();
    await client.deadLetters.purge();
  });

  test("a message that is not a JobRequest ends in the dead-letter queue with its reason", async () => {
    const messageId = `poison-${Date.now()}`;
    await client.broker.publish({
      exchange: client.config.exchange,
      routingKey: client.config.routingKey,
      body: Buffer.from(JSON.stringify({ schema_version: "jobrequest.v1", repo_url: 42 })),
      messageId,
      type: "jobrequest.v1",
    });
    let reason = "";
    await eventually("the poison message in the DLQ", async () => {
      const letter = (await client.deadLetters.list()).find((l) => l.messageId === messageId);
      reason = letter?.reason ?? "";
      return letter !== undefined;
    });
    expect(reason).toMatch(/invalid JobRequest/);
    expect(reason).toContain("request_id");
    expect(reason).toContain("repo_url");
    await client.deadLetters.purge();
  });

  test("a redelivered request whose job already finished is not run again", async () => {
    const request = job({ steps: [{ name: "Once", run: "echo once" }] });
    await client.publishJob(request);
    const first = await events.finished(request.request_id);
    await rowFinished(request.request_id);
    const before = await metric('solstice_job_requests_total{outcome="duplicate"}');

    // The same message again, as the broker would redeliver it.
    await client.publishJob(request);
    await eventually("the duplicate seen by the intake", async () => {
      return (await metric('solstice_job_requests_total{outcome="duplicate"}')) !== before;
    });
    expect(await metric('solstice_job_requests_total{outcome="duplicate"}')).toMatch(/ 1$/);
    expect(events.ordered(request.request_id)).toEqual(first);
    expect(events.arrived.filter((e) => e.request_id === request.request_id)).toHaveLength(first.length);
    expect(await orchestrator!.store.vmsForJob(request.request_id)).toHaveLength(1);
    expect((await orchestrator!.store.getJob(request.request_id))?.attempt).toBe(1);
  });

  test("cancelling a running job through the HTTP API stops its VM and reports it cancelled", async () => {
    const request = job({
      steps: [
        { name: "Long", run: "echo started; sleep 600" },
        { name: "Never", run: "echo never" },
      ],
    });
    await client.publishJob(request);
    await events.waitFor(
      request.request_id,
      (e) => e.type === "log" && e.text.split("\n").includes("started"),
    );
    const vm = (await orchestrator!.store.vmsForJob(request.request_id))[0];
    expect(vm?.state).toBe("running");
    expect((await leftovers(stateDir)).qemu).toHaveLength(1);

    const response = await fetch(`${orchestrator!.httpUrl}/v1/jobs/${request.request_id}/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reason: "wrong commit" }),
    });
    expect(response.status).toBe(202);
    const ordered = await events.finished(request.request_id, 120_000);
    expect(ordered.at(-1)).toMatchObject({
      type: "job_finished",
      conclusion: "cancelled",
      reason: "wrong commit",
    });
    expect(ordered.map((e) => e.seq)).toEqual(ordered.map((_, i) => i));
    expect(texts(ordered, 1)).toEqual([]);
    expect(await rowFinished(request.request_id)).toMatchObject({
      conclusion: "cancelled",
      reason: "wrong commit",
    });
    expect((await orchestrator!.store.vmsForJob(request.request_id)).map((v) => v.state)).toEqual([
      "destroyed",
    ]);
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });

    // Cancelling it again: it already finished.
    const again = await fetch(`${orchestrator!.httpUrl}/v1/jobs/${request.request_id}/cancel`, {
      method: "POST",
    });
    expect(again.status).toBe(409);
  });

  test("/readyz reports the database and the broker", async () => {
    const response = await fetch(`${orchestrator!.httpUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready", checks: { database: "ok", broker: "ok" } });
  });
});
