import { join } from "node:path";
import { AmqpJobQueue, type JobRequest, mqConfigEnv, newJobRequest } from "@solstice/common";
import {
  AMQP_URL,
  deleteMqByPrefix,
  eventually,
  freePort,
  GitServer,
  OrchestratorProcess,
  requireRabbitMQ,
  tempDir,
  writeFastGuestImageMap,
} from "@solstice/test-support";
import { connect } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { JobStore } from "../src/persistence/job-store.ts";
import { openDatabase } from "../src/persistence/open-database.ts";
import {
  EventCollector,
  killLeftoverQemu,
  leftovers,
  mqPrefix,
  postgresSchema,
  uniqueMq,
} from "./orchestrator-support.ts";

// The service as a real process (`node src/main.ts run`), on RabbitMQ and Postgres, for what is
// about the process: SIGTERM's two-phase shutdown, and `kill -9` in the middle of a job followed
// by a restart that settles what the dead process left.

const owner = { kind: "forgejo" as const, instance: "https://forge.test#process" };
const prefix = mqPrefix("process");
const mq = uniqueMq(prefix, 2);
const hostId = "process-host";
let dir: Awaited<ReturnType<typeof tempDir>>;
let stateDir: string;
let git: GitServer;
let pg: Awaited<ReturnType<typeof postgresSchema>>;
let store: JobStore;
let closeStore: () => Promise<void>;
let client: AmqpJobQueue;
let events: EventCollector;
let env: Record<string, string>;
let httpUrl: string;
let repo: { sha: string; guestUrl: string };
const services: OrchestratorProcess[] = [];

beforeAll(async () => {
  await requireRabbitMQ();
  dir = await tempDir("orch-process");
  stateDir = join(dir.path, "state");
  git = await GitServer.start();
  pg = await postgresSchema("process");
  const { path } = await writeFastGuestImageMap(dir.path);
  const port = await freePort();
  httpUrl = `http://127.0.0.1:${port}`;
  env = {
    ...mqConfigEnv(mq),
    ORCH_CONFIG: path,
    MAX_CONCURRENCY: "2",
    CAPACITY_MAP: "solstice-fast-guest=2",
    DATABASE_URL: pg.url,
    HTTP_ADDR: `127.0.0.1:${port}`,
    HOST_ID: hostId,
    STATE_DIR: stateDir,
  };
  const db = await openDatabase({ kind: "postgres", url: pg.url });
  store = new JobStore(db);
  closeStore = () => db.destroy();
  client = await AmqpJobQueue.connect({ config: mq });
  events = await EventCollector.subscribe(client, owner);
  repo = await git.createRepo("process", { README: "process tests\n" });
});

afterEach(async () => {
  // A test that failed half-way must not leave a service running for the next one.
  for (const s of services.splice(0)) await s.stop("SIGKILL");
});

afterAll(async () => {
  await events?.close();
  await client?.close();
  await closeStore?.();
  await git?.stop();
  const killed = stateDir === undefined ? [] : await killLeftoverQemu(stateDir);
  await pg?.drop();
  await deleteMqByPrefix(prefix);
  await dir?.remove();
  expect(killed).toEqual([]);
});

async function startService(extra: Record<string, string> = {}): Promise<OrchestratorProcess> {
  const service = OrchestratorProcess.start({ ...env, ...extra });
  services.push(service);
  await service.waitReady(httpUrl);
  return service;
}

function job(steps: JobRequest["steps"]): JobRequest {
  return newJobRequest({ source: "forgejo", repo_url: repo.guestUrl, commit_sha: repo.sha, owner, steps });
}

const started = (request: JobRequest) =>
  events.waitFor(request.request_id, (e) => e.type === "log" && e.text.split("\n").includes("started"));

async function jobsQueueDepth(): Promise<number> {
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    const { messageCount } = await channel.checkQueue(mq.queue);
    await channel.purgeQueue(mq.queue);
    await channel.close();
    return messageCount;
  } finally {
    await model.close();
  }
}

describe("the orchestrator as a process", () => {
  test("SIGTERM: stops consuming, lets running jobs finish within the drain time, cancels the rest, exits 0", async () => {
    const service = await startService({ DRAIN_TIMEOUT_SECS: "25" });
    const short = job([{ name: "Short", run: "echo started; sleep 3; echo done" }]);
    const long = job([{ name: "Long", run: "echo started; sleep 600" }]);
    await client.publishJob(short);
    await client.publishJob(long);
    await started(short);
    await started(long);

    service.child.kill("SIGTERM");
    await eventually("the service stopped taking jobs", () => service.output().includes("shutting down"));
    // Published after the stop signal: stays in the queue for another orchestrator.
    const late = job([{ run: "echo never" }]);
    await client.publishJob(late);

    const exit = await service.exited;
    expect(exit, service.output().slice(-3000)).toEqual({ code: 0, signal: null });
    const shortEvents = await events.finished(short.request_id, 10_000);
    expect(shortEvents.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    const longEvents = await events.finished(long.request_id, 10_000);
    expect(longEvents.at(-1)).toMatchObject({ type: "job_finished", conclusion: "cancelled" });
    expect(longEvents.at(-1)?.type === "job_finished" && longEvents.at(-1)).toMatchObject({
      reason: expect.stringContaining("shutting down"),
    });
    expect(await store.getJob(short.request_id)).toMatchObject({ state: "finished", conclusion: "success" });
    expect(await store.getJob(long.request_id)).toMatchObject({ state: "finished", conclusion: "cancelled" });
    expect(await store.getJob(late.request_id)).toBeUndefined();
    expect(await jobsQueueDepth()).toBe(1);
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });
    expect(service.output()).toContain('"drained":false');
  });

  test("kill -9 mid-job, then a restart: no QEMU or work directory left, the running job reported failed, the waiting one requeued and run", async () => {
    // Capacity 1: the first job runs, the second is accepted and waits (the intake's buffer).
    const capacityOne = { MAX_CONCURRENCY: "1", CAPACITY_MAP: "solstice-fast-guest=1", AMQP_PREFETCH: "1" };
    const first = await startService(capacityOne);
    const request = job([
      { name: "Sleeps", run: "echo started; sleep 600" },
      { name: "Never", run: "echo never" },
    ]);
    const waiting = job([{ name: "Later", run: "echo ran after the restart" }]);
    await client.publishJob(request);
    await started(request);
    await client.publishJob(waiting);
    await eventually(
      "the second job accepted, waiting",
      async () => (await store.getJob(waiting.request_id))?.state === "accepted",
    );
    const seqBeforeCrash = events.ordered(request.request_id).length;

    await first.stop("SIGKILL");
    // The VM outlived its orchestrator: what the restart must clean up.
    const left = await leftovers(stateDir);
    expect(left.qemu).toHaveLength(1);
    expect(left.workDirs).toHaveLength(1);
    expect(await store.getJob(request.request_id)).toMatchObject({ state: "running", stepsStarted: true });

    const second = await startService(capacityOne);
    const ordered = await events.finished(request.request_id, 60_000);
    expect(ordered.at(-1)).toMatchObject({
      type: "job_finished",
      conclusion: "failure",
      reason: "orchestrator restarted",
    });
    // The report continues the job's sequence: no gap, no seq used twice.
    expect(ordered.map((e) => e.seq)).toEqual(ordered.map((_, i) => i));
    expect(ordered.length).toBeGreaterThan(seqBeforeCrash);
    expect(events.problems(request.request_id)).toEqual({ missing: [], duplicates: [] });
    expect(ordered.some((e) => e.type === "log" && e.text.split("\n").includes("never"))).toBe(false);
    expect(await store.getJob(request.request_id)).toMatchObject({
      state: "finished",
      conclusion: "failure",
      reason: "orchestrator restarted",
    });
    expect((await store.vmsForJob(request.request_id)).map((v) => v.state)).toEqual(["destroyed"]);

    // The job that had not started is run by the new process (attempt 2), not lost, not failed.
    const later = await events.finished(waiting.request_id);
    expect(later.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    expect(later.some((e) => e.type === "log" && e.text.split("\n").includes("ran after the restart"))).toBe(
      true,
    );
    expect(later.map((e) => e.seq)).toEqual(later.map((_, i) => i));
    await eventually(
      "the requeued job finished in the store",
      async () => (await store.getJob(waiting.request_id))?.state === "finished",
    );
    expect(await store.getJob(waiting.request_id)).toMatchObject({ conclusion: "success", attempt: 2 });

    expect(await store.listJobs({ state: "running" })).toEqual([]);
    expect(await store.listJobs({ state: "accepted" })).toEqual([]);
    expect((await store.vmsForHost(hostId)).length).toBe(0);
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });

    expect(await second.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
