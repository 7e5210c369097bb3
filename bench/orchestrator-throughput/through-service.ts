import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AmqpJobQueue, type JobOwner, type JobRequest } from "@solstice/common";
import type { ImageEntry } from "@solstice/orchestrator";
import { benchMq, deleteMq, freePort, postgresSchema, ROOT, writeImageMap } from "./setup.ts";

const HOST_ID = "bench-orchestrator";

/** The service's peak resident set size so far (VmHWM), in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

/**
 * The jobs published through RabbitMQ (as a runner service would) to `solstice-orchestrator run`,
 * a child process on Postgres with MAX_CONCURRENCY = `capacity`. Seconds from the first publish to
 * the last `job_finished` received; the service's VmHWM read before it is stopped.
 */
export async function runThroughService(
  makeJobs: (owner: JobOwner) => JobRequest[],
  image: ImageEntry,
  capacity: number,
  dir: string,
): Promise<{ seconds: number; peakRssMb: number }> {
  const owner: JobOwner = { kind: "manual", instance: `bench-${process.pid}` };
  const mq = benchMq(capacity);
  const pg = await postgresSchema();
  const imageMap = join(dir, "images.json");
  await writeImageMap(imageMap, image);
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "",
    HOME: process.env["HOME"] ?? "/tmp",
    LOG_LEVEL: "warn",
    ORCH_CONFIG: imageMap,
    MAX_CONCURRENCY: String(capacity),
    CAPACITY_MAP: `${image.label}=${capacity}`,
    DATABASE_URL: pg.url,
    AMQP_URL: mq.url,
    AMQP_EXCHANGE: mq.exchange,
    AMQP_QUEUE: mq.queue,
    AMQP_DLX: mq.dlx,
    AMQP_DLQ: mq.dlq,
    AMQP_EVENTS_EXCHANGE: mq.eventsExchange,
    AMQP_EVENTS_UNROUTED: mq.eventsUnrouted,
    AMQP_CANCEL_EXCHANGE: mq.cancelExchange,
    HTTP_ADDR: `127.0.0.1:${port}`,
    HOST_ID,
    STATE_DIR: join(dir, "service-state"),
  };
  const child = spawn(
    process.execPath,
    ["--conditions=@solstice/source", join(ROOT, "packages/orchestrator/src/main.ts"), "run"],
    { env, stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const client = await AmqpJobQueue.connect({ config: mq });
  try {
    for (let ready = false; !ready; ) {
      if (child.exitCode !== null)
        throw new Error(`the orchestrator exited (${child.exitCode}) during start-up`);
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const jobs = makeJobs(owner);
    const pending = new Set(jobs.map((j) => j.request_id));
    let failed: string | undefined;
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    const subscription = await client.consumeEvents(
      owner,
      async (event) => {
        if (event.type !== "job_finished" || !pending.has(event.request_id)) return;
        if (event.conclusion !== "success") failed ??= `${event.conclusion}: ${event.reason ?? ""}`;
        pending.delete(event.request_id);
        if (pending.size === 0) allDone();
      },
      { prefetch: 200 },
    );
    const started = performance.now();
    for (const job of jobs) await client.publishJob(job);
    await done;
    const seconds = (performance.now() - started) / 1000;
    await subscription.cancel();
    if (failed !== undefined) throw new Error(`a job through the service did not succeed: ${failed}`);
    const rss = await peakRssMb(child.pid ?? 0);
    return { seconds, peakRssMb: rss };
  } finally {
    child.kill("SIGTERM");
    await exited;
    await client.close();
    await deleteMq(mq, owner, HOST_ID);
    await pg.drop();
  }
}
