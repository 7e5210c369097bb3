import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLogger,
  EventReorderer,
  type JobEvent,
  type JobOwner,
  type JobQueue,
  type MqConfig,
  mqConfigFromEnv,
  type Subscription,
} from "@solstice/common";
import {
  DATABASE_URL,
  eventually,
  mqTestEnv,
  qemuProcessesUsing,
  requirePostgres,
  mqPrefix as testPrefix,
} from "@solstice/test-support";
import { sql } from "kysely";
import { type Logger, pino } from "pino";
import { parseServiceConfig, type ServiceConfig } from "../src/config/service-config.ts";
import { createPostgresDb } from "../src/persistence/postgres-db.ts";

// Shared setup of the orchestrator service's end-to-end tests: an image map for the fast guest,
// service configs (fleet: unique RabbitMQ names and a private Postgres schema; embedded), an
// event collector that checks order and gaps with common's EventReorderer, the service as a
// child process, and checks that no VM is left.

/** A prefix for every RabbitMQ name one test file declares. */
export function mqPrefix(label: string): string {
  return testPrefix(`orch-${label}`);
}

/** Queue settings with every name under `prefix`, on the test broker. */
export function uniqueMq(prefix: string, prefetch: number): MqConfig {
  return mqConfigFromEnv(
    mqTestEnv(prefix, { AMQP_PREFETCH: prefetch, AMQP_RETRY_DELAY_MS: 100, AMQP_PUBLISH_TIMEOUT_MS: 15_000 }),
  );
}

/** A private schema on the test Postgres; `url` sees only it. `drop()` removes it. */
export async function postgresSchema(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  await requirePostgres();
  const schema = `orch_${label}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const admin = createPostgresDb({ url: DATABASE_URL, applicationName: "solstice-test" });
  await sql`create schema ${sql.id(schema)}`.execute(admin);
  const url = new URL(DATABASE_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin);
      await admin.destroy();
    },
  };
}

/** What a test service config varies. */
export interface TestConfigOptions {
  readonly imageMapPath: string;
  readonly stateDir: string;
  readonly hostId: string;
  /** Fleet mode: RabbitMQ settings (else the in-process queue). */
  readonly mq?: MqConfig | undefined;
  /** Fleet mode: Postgres (else PGlite under the state dir). */
  readonly databaseUrl?: string | undefined;
  readonly maxConcurrency?: number | undefined;
  readonly capacityMap?: string | undefined;
  readonly debugSshTtlSecs?: number | undefined;
  readonly drainTimeoutSecs?: number | undefined;
  /** Warm starts (default off in tests: a template build beside every first job would load the machine). */
  readonly warmStarts?: boolean | undefined;
  /** WARM_PREWARM: labels whose templates are built at start. */
  readonly warmPrewarm?: string | undefined;
}

/** A service config as flags and the environment would give it; the HTTP API on a free port. */
export function testConfig(options: TestConfigOptions): ServiceConfig {
  const maxConcurrency = options.maxConcurrency ?? 2;
  const mq = options.mq ?? mqConfigFromEnv({}, { prefetch: maxConcurrency });
  const str = (n: number | undefined) => (n === undefined ? undefined : String(n));
  return parseServiceConfig(
    {
      config: options.imageMapPath,
      maxConcurrency: String(maxConcurrency),
      capacityMap: options.capacityMap ?? `solstice-fast-guest=${maxConcurrency}`,
      databaseUrl: options.databaseUrl,
      httpAddr: "127.0.0.1:0",
      hostId: options.hostId,
      stateDir: options.stateDir,
      debugSshTtlSecs: str(options.debugSshTtlSecs),
      drainTimeoutSecs: str(options.drainTimeoutSecs),
      warmStarts: String(options.warmStarts ?? false),
      warmPrewarm: options.warmPrewarm,
      mq,
      amqpUrlGiven: options.mq !== undefined,
    },
    { hostname: "test", uid: 1000, home: tmpdir() },
  );
}

/**
 * Collects one owner's events from the queue and restores each job's order with common's
 * EventReorderer, noting duplicates and gaps.
 */
export class EventCollector {
  /** Every event as it arrived. */
  readonly arrived: JobEvent[] = [];
  readonly #jobs = new Map<
    string,
    { reorderer: EventReorderer; ordered: JobEvent[]; duplicates: number[] }
  >();
  #subscription: Subscription | undefined;

  static async subscribe(queue: JobQueue, owner: JobOwner): Promise<EventCollector> {
    const collector = new EventCollector();
    collector.#subscription = await queue.consumeEvents(owner, async (event) => collector.push(event), {
      prefetch: 100,
    });
    return collector;
  }

  push(event: JobEvent): void {
    this.arrived.push(event);
    let job = this.#jobs.get(event.request_id);
    if (job === undefined) {
      job = { reorderer: new EventReorderer(), ordered: [], duplicates: [] };
      this.#jobs.set(event.request_id, job);
    }
    const out = job.reorderer.push(event);
    job.ordered.push(...out.events);
    job.duplicates.push(...out.duplicates);
  }

  /** A job's events delivered in order so far (no gap skipped). */
  ordered(requestId: string): JobEvent[] {
    return this.#jobs.get(requestId)?.ordered ?? [];
  }

  /** Held back events (a gap before them) and duplicates of a job. */
  problems(requestId: string): { missing: { from: number; to: number }[]; duplicates: number[] } {
    const job = this.#jobs.get(requestId);
    return { missing: job?.reorderer.missing() ?? [], duplicates: job?.duplicates ?? [] };
  }

  /** Waits until the job's `job_finished` has been delivered in order; returns its events. */
  async finished(requestId: string, timeoutMs = 240_000): Promise<JobEvent[]> {
    await eventually(
      `job ${requestId} finished (events so far: ${this.describe(requestId)})`,
      () => this.#jobs.get(requestId)?.reorderer.finished === true,
      timeoutMs,
    );
    return this.ordered(requestId);
  }

  /** Waits until an event matching `match` was delivered in order for the job. */
  async waitFor(requestId: string, match: (e: JobEvent) => boolean, timeoutMs = 240_000): Promise<JobEvent> {
    let found: JobEvent | undefined;
    await eventually(
      `an event of job ${requestId} (so far: ${this.describe(requestId)})`,
      () => {
        found = this.ordered(requestId).find(match);
        return found !== undefined;
      },
      timeoutMs,
    );
    return found as JobEvent;
  }

  describe(requestId: string): string {
    return (
      this.ordered(requestId)
        .slice(-5)
        .map((e) => (e.type === "log" ? `log:${e.text.slice(0, 80)}` : e.type))
        .join(" | ") || "none"
    );
  }

  async close(): Promise<void> {
    await this.#subscription?.cancel({ timeoutMs: 5_000 });
  }
}

/** QEMU processes and VM work directories left under a state directory. */
export async function leftovers(stateDir: string): Promise<{ qemu: number[]; workDirs: string[] }> {
  const qemu = await qemuProcessesUsing(stateDir);
  const workDirs = await readdir(join(stateDir, "vms")).catch(() => []);
  return { qemu, workDirs };
}

/** Kills QEMU processes left under `stateDir` (test cleanup) and returns their pids. */
export async function killLeftoverQemu(stateDir: string): Promise<number[]> {
  const pids = await qemuProcessesUsing(stateDir);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids;
}

/** A JSON logger writing to `path` (read it when a test fails). */
export function fileLogger(path: string): Logger {
  return createLogger({
    service: "solstice-orchestrator",
    level: "debug",
    destination: pino.destination({ dest: path, sync: true }),
  });
}
