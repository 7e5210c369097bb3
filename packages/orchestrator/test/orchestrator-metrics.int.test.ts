import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AmqpJobQueue, newJobRequest } from "@solstice/common";
import { deleteMqByPrefix, eventually, requireRabbitMQ, tempDir } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import {
  EventCollector,
  fileLogger,
  mqPrefix,
  postgresSchema,
  testConfig,
  uniqueMq,
} from "./orchestrator-support.ts";

// The orchestrator's /metrics over real RabbitMQ and Postgres, for jobs that never reach a VM: a
// label no host serves (the router refuses and dead-letters it) and a request over the step limit
// (the intake refuses and dead-letters it). No QEMU: the image map's file is never read.

const owner = { kind: "forgejo" as const, instance: "https://forge.test#metrics", task_id: "1" };
const prefix = mqPrefix("metrics");
const mq = uniqueMq(prefix, 2);
let dir: Awaited<ReturnType<typeof tempDir>>;
let pg: Awaited<ReturnType<typeof postgresSchema>>;
let orchestrator: RunningOrchestrator;
let client: AmqpJobQueue;
let events: EventCollector;

beforeAll(async () => {
  await requireRabbitMQ();
  dir = await tempDir("orch-metrics");
  pg = await postgresSchema("metrics");
  const entry = { source: "file:///nowhere.qcow2", local_path: join(dir.path, "absent.qcow2"), accel: "tcg" };
  const mapPath = join(dir.path, "images.yaml");
  await writeFile(
    mapPath,
    `${JSON.stringify({ default_label: "lab-a", images: { "lab-a": entry, "lab-b": entry } })}\n`,
  );
  orchestrator = await startOrchestrator(
    testConfig({
      imageMapPath: mapPath,
      stateDir: join(dir.path, "state"),
      hostId: "metrics-host",
      mq,
      databaseUrl: pg.url,
      capacityMap: "lab-a=2",
    }),
    { logger: fileLogger(join(dir.path, "orchestrator.log")) },
  );
  client = await AmqpJobQueue.connect({ config: mq });
  events = await EventCollector.subscribe(client, owner);
});

afterAll(async () => {
  await events?.close();
  await client?.close();
  await orchestrator?.stop({ drainTimeoutMs: 0 });
  await pg?.drop();
  await deleteMqByPrefix(prefix);
  await dir?.remove();
});

async function scrape(): Promise<string[]> {
  const res = await fetch(`${orchestrator.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return (await res.text()).split("\n");
}

describe("orchestrator /metrics", () => {
  test("before any job: finished counters, queue wait and capacity series per label, at zero", async () => {
    const text = await scrape();
    for (const label of ["lab-a", "lab-b"]) {
      for (const conclusion of ["success", "failure", "cancelled"])
        expect(text).toContain(`solstice_jobs_finished_total{label="${label}",conclusion="${conclusion}"} 0`);
      expect(text).toContain(`solstice_job_queue_wait_seconds_count{label="${label}"} 0`);
      expect(text).toContain(`solstice_capacity_in_use{label="${label}"} 0`);
    }
    expect(text).toContain('solstice_capacity_limit{label="lab-a"} 2');
    expect(text).toContain('solstice_capacity_limit{label="lab-b"} 1');
    expect(text).toContain("# TYPE solstice_jobs_finished_total counter");
    expect(text.filter((l) => l.startsWith("solstice_mq_dead_letters_total{"))).toEqual([]);
    // The broker's queues: this host consumes each label's queue; nothing dead-lettered yet.
    expect(text).toContain("solstice_queue_inspect_ok 1");
    expect(text).toContain(`solstice_queue_messages{queue="${mq.dlq}",kind="dead_letter"} 0`);
    expect(text).toContain(`solstice_queue_consumers{queue="${mq.queue}",kind="original"} 1`);
    for (const label of ["lab-a", "lab-b"]) {
      expect(
        text.some(
          (l) => /^solstice_queue_consumers\{queue="[^"]+",kind="label"\} 1$/.test(l) && l.includes(label),
        ),
      ).toBe(true);
    }
  });

  test("a refused and an unserved request count as failed jobs and as dead letters by code", async () => {
    const unserved = newJobRequest({
      source: "forgejo",
      repo_url: "https://forge.test/o/r.git",
      commit_sha: "0".repeat(40),
      runs_on: "plan9",
      owner,
      steps: [{ name: "Run", run: "true" }],
    });
    const tooLong = newJobRequest({
      source: "forgejo",
      repo_url: "https://forge.test/o/r.git",
      commit_sha: "0".repeat(40),
      runs_on: "lab-b",
      owner,
      steps: Array.from({ length: 1001 }, (_, i) => ({ name: `s${i}`, run: "true" })),
    });
    await client.publishJob(unserved);
    await client.publishJob(tooLong);
    for (const r of [unserved, tooLong]) {
      const finished = await events.finished(r.request_id);
      expect(finished.at(-1)).toMatchObject({ type: "job_finished", conclusion: "failure" });
    }
    const deadLetters = (text: string[]) =>
      text
        .filter((l) => l.startsWith("solstice_mq_dead_letters_total{"))
        .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
    // The owner hears of a refusal before the request is dead-lettered.
    await eventually("both requests dead-lettered", async () => deadLetters(await scrape()) === 2);
    const text = await scrape();
    expect(text).toContain('solstice_jobs_finished_total{label="(unknown)",conclusion="failure"} 1');
    expect(text).toContain('solstice_jobs_finished_total{label="lab-b",conclusion="failure"} 1');
    expect(text).toContain('solstice_jobs_finished_total{label="lab-a",conclusion="failure"} 0');
    expect(text).toContain('solstice_job_requests_total{outcome="refused"} 1');
    expect(text.filter((l) => l.startsWith("solstice_mq_dead_letters_total{"))).toEqual([
      'solstice_mq_dead_letters_total{code="JOB_LABEL_UNSERVED"} 1',
      'solstice_mq_dead_letters_total{code="ORCH_JOB_REQUEST_REFUSED"} 1',
    ]);
    // And they wait in the dead-letter queue, as every host's scrape shows (the DLQ alert's source).
    expect(text).toContain(`solstice_queue_messages{queue="${mq.dlq}",kind="dead_letter"} 2`);
    // Nothing ran: no queue wait observed, nothing in use.
    expect(text).toContain('solstice_job_queue_wait_seconds_count{label="lab-b"} 0');
    expect(text).toContain('solstice_capacity_in_use{label="lab-b"} 0');
  });
});
