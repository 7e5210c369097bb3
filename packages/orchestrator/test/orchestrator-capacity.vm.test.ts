import { join } from "node:path";
import { AmqpJobQueue, newJobRequest } from "@solstice/common";
import {
  deleteMqByPrefix,
  eventually,
  GitServer,
  qemuProcessesUsing,
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
  leftovers,
  mqPrefix,
  postgresSchema,
  testConfig,
  uniqueMq,
} from "./orchestrator-support.ts";

// Capacity: six jobs published at once to a host of capacity 2 (MAX_CONCURRENCY=2, prefetch 2).
// QEMU processes are sampled from /proc every 200 ms while they run.

const owner = { kind: "manual" as const, instance: "capacity-test" };
const prefix = mqPrefix("capacity");
let dir: Awaited<ReturnType<typeof tempDir>>;
let stateDir: string;
let git: GitServer;
let pg: Awaited<ReturnType<typeof postgresSchema>>;
let orchestrator: RunningOrchestrator | undefined;
let client: AmqpJobQueue;
let events: EventCollector;

beforeAll(async () => {
  await requireRabbitMQ();
  dir = await tempDir("orch-capacity");
  stateDir = join(dir.path, "state");
  git = await GitServer.start();
  pg = await postgresSchema("capacity");
  const { path } = await writeFastGuestImageMap(dir.path);
  const mq = uniqueMq(prefix, 2);
  orchestrator = await startOrchestrator(
    testConfig({
      imageMapPath: path,
      stateDir,
      hostId: "capacity-host",
      mq,
      databaseUrl: pg.url,
      maxConcurrency: 2,
    }),
    { logger: fileLogger(join(dir.path, "service.log")), engine: { sshTimeoutMs: 240_000 } },
  );
  client = await AmqpJobQueue.connect({ config: mq });
  events = await EventCollector.subscribe(client, owner);
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

describe("capacity", () => {
  test("six jobs at capacity 2: never more than two QEMU processes at once, all six finish", async () => {
    const orch = orchestrator!;
    const repo = await git.createRepo("capacity", { "n.txt": "capacity\n" });
    const requests = Array.from({ length: 6 }, (_, i) =>
      newJobRequest({
        source: "manual",
        repo_url: repo.guestUrl,
        commit_sha: repo.sha,
        runs_on: "fast",
        owner,
        steps: [{ name: `Job ${i}`, run: `echo job-${i}` }],
      }),
    );

    const qemuSamples: number[] = [];
    const acceptedSamples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        qemuSamples.push((await qemuProcessesUsing(stateDir)).length);
        const counts = await orch.store.countJobsByState("capacity-host");
        acceptedSamples.push(counts.accepted + counts.running);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    try {
      for (const request of requests) await client.publishJob(request);
      for (const request of requests) {
        const ordered = await events.finished(request.request_id, 600_000);
        expect(ordered.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
      }
      for (const request of requests) {
        await eventually(
          "row finished",
          async () => (await orch.store.getJob(request.request_id))?.state === "finished",
        );
      }
    } finally {
      sampling = false;
      await sampler;
    }

    // The sampler saw VMs running, never more than the capacity.
    expect(Math.max(...qemuSamples)).toBeGreaterThan(0);
    expect(Math.max(...qemuSamples)).toBeLessThanOrEqual(2);
    // Back-pressure: at most capacity + the intake buffer (1) jobs taken from the queue at once.
    expect(Math.max(...acceptedSamples)).toBeLessThanOrEqual(3);
    for (const request of requests) {
      const texts = events
        .ordered(request.request_id)
        .flatMap((e) => (e.type === "log" ? e.text.split("\n") : []));
      expect(texts).toContain(`job-${requests.indexOf(request)}`);
      expect(await orch.store.getJob(request.request_id)).toMatchObject({
        state: "finished",
        conclusion: "success",
      });
    }
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });

    // The metrics saw the same: six successes, six queue waits, of which four waited for a slot.
    const text = (await (await fetch(`${orch.httpUrl}/metrics`)).text()).split("\n");
    const value = (series: string) => Number(text.find((l) => l.startsWith(`${series} `))?.split(" ")[1]);
    const label = 'label="solstice-fast-guest"';
    expect(value(`solstice_jobs_finished_total{${label},conclusion="success"}`)).toBe(6);
    expect(value(`solstice_jobs_finished_total{${label},conclusion="failure"}`)).toBe(0);
    expect(value(`solstice_job_queue_wait_seconds_count{${label}}`)).toBe(6);
    // Capacity 2, each job several seconds: the last ones waited at least one job's run.
    expect(value(`solstice_job_queue_wait_seconds_sum{${label}}`)).toBeGreaterThan(1);
    expect(value(`solstice_job_queue_wait_seconds_bucket{${label},le="0.1"}`)).toBeLessThan(6);
  });
});
