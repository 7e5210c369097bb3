import { setTimeout as sleep } from "node:timers/promises";
import { type JobEvent, newJobRequest } from "@solstice/common";
import { DATABASE_URL, requirePostgres, TcpProxy } from "@solstice/test-support";
import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { OrchestratorDatabase } from "../src/persistence/database-schema.ts";
import { JobStore } from "../src/persistence/job-store.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { createPostgresDb } from "../src/persistence/postgres-db.ts";
import { openJobEventChannel } from "../src/service/job-event-channel.ts";
import { postgresSchema } from "./orchestrator-support.ts";

// A database blip while a job runs must lose nothing: its events are held, in order, and written
// once the database answers again; every log line reaches `job_logs` and the owner, with no gap in
// the sequence. The real Postgres is reached through a TCP proxy that this test cuts (connections
// reset, new ones refused: what a restart looks like to the client), and its connections are also
// terminated by the server (`pg_terminate_backend`, the error a restart gives). The real server
// itself is not stopped: other tests share it.

const APP = `solstice-outage-${process.pid}`;

describe("a database outage while a job's events are written", () => {
  let schema: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let db: Kysely<OrchestratorDatabase>;
  let admin: Kysely<OrchestratorDatabase>;
  let store: JobStore;

  beforeAll(async () => {
    await requirePostgres();
    schema = await postgresSchema("outage");
    const server = new URL(DATABASE_URL);
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
    const url = new URL(schema.url);
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    db = createPostgresDb<OrchestratorDatabase>({
      url: url.toString(),
      applicationName: APP,
      acquireTimeoutMs: 2_000,
    });
    admin = createPostgresDb<OrchestratorDatabase>({ url: DATABASE_URL, applicationName: "solstice-test" });
    await migrateToLatest(db);
    store = new JobStore(db);
  });

  afterAll(async () => {
    proxy?.resume();
    await db?.destroy();
    await admin?.destroy();
    await proxy?.close();
    await schema?.drop();
  });

  test("every event reaches the store and the owner, in order, with no line lost", async () => {
    const req = newJobRequest({
      source: "manual",
      repo_url: "https://example.org/r.git",
      commit_sha: "0123456789abcdef0123456789abcdef01234567",
    });
    const id = req.request_id;
    await store.recordAccepted(req, { hostId: "outage-host", label: "local" });
    await store.markRunning(id);
    const published: JobEvent[] = [];
    const storeWarnings: string[] = [];
    const channel = await openJobEventChannel(
      {
        store,
        queue: { publishEvent: async (event) => void published.push(event) },
        logger: {
          warn: (fields: Record<string, unknown>, message?: string) =>
            storeWarnings.push(`${message}: ${String(fields["what"])}`),
          info: () => undefined,
          error: () => undefined,
          debug: () => undefined,
        } as never,
      },
      { requestId: id, owner: undefined },
    );
    channel.events.jobStarted({ host: "outage-host", label: "local" });
    channel.events.stepStarted(0, "Busy");

    // A step printing two lines every 10 ms for about 7 s...
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        channel.events.logLines(0, "stdout", [`line ${i}a`, `line ${i}b`]);
        await sleep(10);
      }
    })();
    // ... while the server drops the job's connections, then the network to it goes for 3 s.
    await sleep(800);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${APP}`.execute(
      admin,
    );
    await sleep(800);
    proxy.cut();
    await sleep(3_000);
    proxy.resume();
    await sleep(1_500);
    stop = true;
    await writer;
    channel.events.stepFinished(0, { exitCode: 0, durationMs: 7_000, conclusion: "success" });
    channel.events.jobFinished("success");
    await channel.close();

    // The owner got every event once, in order.
    expect(published.map((e) => e.seq)).toEqual(published.map((_, i) => i));
    expect(published.at(-1)?.type).toBe("job_finished");
    expect(channel.publishError).toBeUndefined();
    // The store has every line of every log event, and the mark past the last event.
    const expected = published.flatMap((e) =>
      e.type === "log" ? e.text.split("\n").map((text, line) => [e.seq, line, text]) : [],
    );
    expect(expected.length).toBeGreaterThan(600);
    const stored = await store.getLogs(id, { limit: 10_000 });
    expect(stored.map((l) => [l.seq, l.line, l.text])).toEqual(expected);
    expect(await store.nextEventSeq(id)).toBe(published.length);
    expect((await store.getJob(id))?.stepsStarted).toBe(true);
    // The outage was seen (and waited out), not missed.
    expect(storeWarnings.length).toBeGreaterThan(0);
  }, 90_000);
});
