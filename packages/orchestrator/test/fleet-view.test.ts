import type { JobQueueDepths, ServiceLogger } from "@solstice/common";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fleetLabels, fleetView, MAX_FLEET_LABELS } from "../src/http/fleet-views.ts";
import { type FleetHost, FleetHostStore, hostState } from "../src/persistence/fleet-hosts.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { FleetHeartbeat } from "../src/service/fleet-heartbeat.ts";
import { fleetOverview } from "../src/service/fleet-overview.ts";
import { OutageNotice } from "../src/service/outage-notice.ts";
import { openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// The fleet view's pure parts (host state, the answer's shape, when an outage is logged) and the
// heartbeat loop over the real fleet table on PGlite, with writes made to fail on demand.

const T0 = Date.parse("2026-03-01T12:00:00Z");
const at = (ms: number) => new Date(T0 + ms);

function host(
  id: string,
  labels: Record<string, number>,
  state: FleetHost["state"],
  lastSeenMs = 0,
): FleetHost {
  return {
    hostId: id,
    labels,
    capacity: 4,
    runningJobs: 1,
    startedAt: at(-60_000),
    lastSeen: at(lastSeenMs),
    version: "0.1.0",
    drainingSince: state === "draining" ? at(0) : null,
    heartbeatSecs: 15,
    state,
  };
}

describe("host state", () => {
  test("stopped wins; no heartbeat for more than 3 intervals is stale, even while draining", () => {
    const row = { lastSeen: at(0), stoppedAt: null };
    expect(hostState(row, at(45_000), 15_000)).toBe("up");
    expect(hostState({ ...row, drainingSince: at(0) }, at(45_000), 15_000)).toBe("draining");
    expect(hostState({ ...row, drainingSince: at(0) }, at(45_001), 15_000)).toBe("stale");
    expect(hostState({ ...row, stoppedAt: at(1), drainingSince: at(0) }, at(999_999), 15_000)).toBe(
      "stopped",
    );
  });
});

describe("the /v1/fleet answer", () => {
  const hosts = [
    host("a", { ubuntu: 2 }, "up"),
    host("b", { ubuntu: 1, illumos: 3 }, "draining"),
    host("c", { illumos: 1, bsd: 1 }, "stale", -120_000),
    host("d", { ubuntu: 1 }, "stopped"),
  ];
  const depths: JobQueueDepths = {
    labels: [
      { label: "illumos", queue: "q.label.illumos", messages: 5, consumers: 1 },
      { label: "ubuntu", queue: "q.label.ubuntu", messages: 0, consumers: 2 },
    ],
    original: { queue: "q", messages: 0, consumers: 2 },
    deadLetters: { queue: "q.dlq", messages: 3, consumers: 0 },
  };

  test("labels: every host's (whatever its state) and the answering host's, sorted and bounded", () => {
    expect(fleetLabels(hosts, ["zos"])).toEqual(["bsd", "illumos", "ubuntu", "zos"]);
    const many = Array.from({ length: MAX_FLEET_LABELS + 10 }, (_, i) => `l${String(i).padStart(4, "0")}`);
    expect(fleetLabels([], many)).toHaveLength(MAX_FLEET_LABELS);
  });

  test("hosts with their age; each queue with the hosts up or draining that serve it; missing queues apart", () => {
    const labels = fleetLabels(hosts, []);
    const view = fleetView({ hostId: "a", now: at(4_000), hosts, labels, depths });
    expect(view.checked_at).toBe("2026-03-01T12:00:04.000Z");
    expect(view.hosts.map((h) => [h.host_id, h.state, h.last_seen_secs])).toEqual([
      ["a", "up", 4],
      ["b", "draining", 4],
      ["c", "stale", 124],
      ["d", "stopped", 4],
    ]);
    expect(view.hosts[1]).toMatchObject({
      labels: { ubuntu: 1, illumos: 3 },
      capacity: 4,
      running_jobs: 1,
      version: "0.1.0",
      heartbeat_secs: 15,
      started_at: "2026-03-01T11:59:00.000Z",
      draining_since: "2026-03-01T12:00:00.000Z",
    });
    expect(view.queues).toEqual([
      { label: "illumos", queue: "q.label.illumos", messages: 5, consumers: 1, hosts: ["b"] },
      { label: "ubuntu", queue: "q.label.ubuntu", messages: 0, consumers: 2, hosts: ["a", "b"] },
    ]);
    expect(view.missing_queues).toEqual(["bsd"]);
    expect(view.dead_letters).toEqual({ queue: "q.dlq", messages: 3, consumers: 0 });
    expect(view.queue_error).toBeNull();
  });

  test("without the broker: the hosts, no queues, and why", async () => {
    const read = fleetOverview({
      fleet: { list: async () => hosts },
      queue: { inspectJobQueues: () => new Promise<never>(() => {}) },
      hostId: "a",
      servedLabels: ["ubuntu"],
      heartbeatMs: 15_000,
      queueTimeoutMs: 50,
      now: () => at(0),
    });
    const view = await read();
    expect(view.hosts).toHaveLength(4);
    expect(view.queues).toEqual([]);
    expect(view.missing_queues).toEqual([]);
    expect(view.queue_error).toBe("the broker did not answer within 50 ms");

    const refused = fleetOverview({
      fleet: { list: async () => [] },
      queue: { inspectJobQueues: async () => Promise.reject(new Error("connection refused")) },
      hostId: "a",
      servedLabels: [],
      heartbeatMs: 15_000,
    });
    expect((await refused()).queue_error).toBe("connection refused");
  });
});

describe("outage notice", () => {
  test("the first failure of an outage and the first success after it, nothing between", () => {
    const notice = new OutageNotice();
    expect(notice.succeeded()).toBeUndefined();
    expect(notice.failed()).toBe("outage-began");
    expect(notice.failing).toBe(true);
    expect(notice.failed()).toBeUndefined();
    expect(notice.failed()).toBeUndefined();
    expect(notice.succeeded()).toEqual({ failures: 3 });
    expect(notice.failing).toBe(false);
    expect(notice.succeeded()).toBeUndefined();
    expect(notice.failed()).toBe("outage-began");
  });
});

describe("the heartbeat loop on the fleet table (PGlite)", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    await migrateToLatest(t.db);
  });
  afterAll(async () => t?.close());

  test("beats, survives failed writes (one warning, one recovery line), drains, stops", async () => {
    const real = new FleetHostStore(t.db);
    let down = false;
    let writes = 0;
    const store = {
      heartbeat: async (...args: Parameters<FleetHostStore["heartbeat"]>) => {
        writes += 1;
        if (down) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
        await real.heartbeat(...args);
      },
      markStopped: (hostId: string, now: Date) => real.markStopped(hostId, now),
    };
    const logs: string[] = [];
    const logger: ServiceLogger = {
      debug: () => undefined,
      info: (_fields, message) => logs.push(`info ${message}`),
      warn: (_fields, message) => logs.push(`warn ${message}`),
      error: (_fields, message) => logs.push(`error ${message}`),
    };
    let running = 0;
    const beat = new FleetHeartbeat({
      store,
      hostId: "beat-host",
      version: "9.9.9",
      intervalMs: 20,
      facts: () => ({ labels: { ubuntu: 2 }, capacity: 2, runningJobs: running }),
      logger,
    });
    const row = async () => (await real.list(new Date(), 60_000)).find((h) => h.hostId === "beat-host");

    await beat.start();
    expect(await row()).toMatchObject({
      state: "up",
      version: "9.9.9",
      runningJobs: 0,
      labels: { ubuntu: 2 },
    });
    running = 2;
    await eventually(
      "the running jobs recorded by a later beat",
      async () => (await row())?.runningJobs === 2,
    );

    down = true;
    const failedFrom = writes;
    await eventually("several failed beats", () => writes >= failedFrom + 5);
    expect(beat.failing).toBe(true);
    down = false;
    await eventually("a beat written again", () => !beat.failing);
    expect(logs).toEqual([
      "warn fleet heartbeat failed; retrying every interval (logged once per outage)",
      "info fleet heartbeat written again",
    ]);

    await beat.draining();
    expect(await row()).toMatchObject({ state: "draining" });
    await beat.stop();
    expect(await row()).toMatchObject({ state: "stopped", runningJobs: 0 });
    const after = writes;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writes).toBe(after);
    expect((await row())?.state).toBe("stopped");
  });
});
