import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { ImageEntry } from "@solstice/common";
import { AmqpJobQueue, type JobEvent, type JobOwner, type JobRequest, type MqConfig } from "@solstice/common";
import { benchMq, deleteMq, postgresSchema, startOrchestratorProcess } from "./setup.ts";

const HOST_ID = "bench-orchestrator";
// USER_HZ on Linux.
const CLOCK_TICKS = 100;

/**
 * `solstice-orchestrator run` as a child process (fleet mode: RabbitMQ and a private Postgres
 * schema, MAX_CONCURRENCY = capacity), fed through RabbitMQ as a runner service would.
 */
export class ServiceSession {
  readonly owner: JobOwner = { kind: "manual", instance: `bench-${process.pid}` };
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #client: AmqpJobQueue;
  readonly #mq: MqConfig;
  readonly #dropSchema: () => Promise<void>;
  readonly #waiting = new Map<string, (event: JobEvent) => void>();

  private constructor(fields: {
    child: ChildProcess;
    client: AmqpJobQueue;
    mq: MqConfig;
    dropSchema: () => Promise<void>;
  }) {
    this.#child = fields.child;
    this.#exited = new Promise((resolve) => fields.child.once("exit", (code) => resolve(code)));
    this.#client = fields.client;
    this.#mq = fields.mq;
    this.#dropSchema = fields.dropSchema;
  }

  /** Starts the service and waits until /readyz answers (start-up is not part of any timing). */
  static async start(image: ImageEntry, capacity: number, dir: string): Promise<ServiceSession> {
    const mq = benchMq(capacity);
    const pg = await postgresSchema();
    const child = await startOrchestratorProcess({
      image,
      capacity,
      dir,
      mq,
      databaseUrl: pg.url,
      hostId: HOST_ID,
    });
    const client = await AmqpJobQueue.connect({ config: mq });
    const session = new ServiceSession({ child, client, mq, dropSchema: pg.drop });
    await client.consumeEvents(
      session.owner,
      async (event) => {
        if (event.type === "job_finished") session.#waiting.get(event.request_id)?.(event);
      },
      { prefetch: 200 },
    );
    return session;
  }

  /** Publishes the jobs; seconds from the first publish to the last `job_finished` received. */
  async run(jobs: readonly JobRequest[]): Promise<number> {
    const finished = jobs.map(
      (job) =>
        new Promise<JobEvent>((resolve) => {
          this.#waiting.set(job.request_id, resolve);
        }),
    );
    const started = performance.now();
    for (const job of jobs) await this.#client.publishJob(job);
    const ends = await Promise.all(finished);
    const seconds = (performance.now() - started) / 1000;
    for (const job of jobs) this.#waiting.delete(job.request_id);
    const failed = ends.find((e) => e.type === "job_finished" && e.conclusion !== "success");
    if (failed !== undefined)
      throw new Error(`a job through the service did not succeed: ${JSON.stringify(failed)}`);
    return seconds;
  }

  /** CPU seconds (user + system) the service process has used so far. */
  async cpuSeconds(): Promise<number> {
    const stat = await readFile(`/proc/${this.#child.pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }

  /** The service's peak resident set size so far (VmHWM), in MB. */
  async peakRssMb(): Promise<number> {
    const status = await readFile(`/proc/${this.#child.pid}/status`, "utf8");
    return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) / 1024;
  }

  /** SIGTERM, then removes the broker names and the schema. */
  async stop(): Promise<void> {
    this.#child.kill("SIGTERM");
    await this.#exited;
    await this.#client.close();
    await deleteMq(this.#mq, this.owner, HOST_ID);
    await this.#dropSchema();
  }
}
