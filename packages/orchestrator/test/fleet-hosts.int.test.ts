import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FleetHostStore, hostState } from "../src/persistence/fleet-hosts.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { BACKENDS, openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// The fleet heartbeat table over the real Postgres (a private schema) and PGlite.

const HEARTBEAT_MS = 15_000;
const T0 = Date.parse("2026-03-01T12:00:00Z");
const at = (ms: number) => new Date(T0 + ms);

test("a host is stale only after more than 3 missed intervals, stopped wins", () => {
  const lastSeen = at(0);
  expect(hostState({ lastSeen, stoppedAt: null }, at(3 * HEARTBEAT_MS), HEARTBEAT_MS)).toBe("up");
  expect(hostState({ lastSeen, stoppedAt: null }, at(3 * HEARTBEAT_MS + 1), HEARTBEAT_MS)).toBe("stale");
  expect(hostState({ lastSeen, stoppedAt: at(1) }, at(1), HEARTBEAT_MS)).toBe("stopped");
});

for (const backend of BACKENDS) {
  describe(`fleet hosts on ${backend}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase(backend);
      await migrateToLatest(t.db);
    });
    afterAll(async () => t?.close());

    test("heartbeat upserts, ages to stale, a clean stop marks stopped, a restart revives", async () => {
      const store = new FleetHostStore(t.db);
      const a = { hostId: "host-a", labels: { ubuntu: 2 }, capacity: 2, runningJobs: 0, startedAt: at(0) };
      const b = {
        hostId: "host-b",
        labels: { ubuntu: 1, illumos: 3 },
        capacity: 4,
        runningJobs: 1,
        startedAt: at(0),
      };
      await store.heartbeat(a, at(0));
      await store.heartbeat(b, at(0));
      await store.heartbeat({ ...a, runningJobs: 2 }, at(HEARTBEAT_MS));

      const later = await store.list(at(4 * HEARTBEAT_MS), HEARTBEAT_MS);
      expect(later.map((h) => [h.hostId, h.state, h.runningJobs, h.labels])).toEqual([
        ["host-a", "up", 2, { ubuntu: 2 }],
        ["host-b", "stale", 1, { ubuntu: 1, illumos: 3 }],
      ]);
      expect(later[0]?.lastSeen.getTime()).toBe(T0 + HEARTBEAT_MS);

      await store.markStopped("host-a", at(5 * HEARTBEAT_MS));
      const stopped = await store.list(at(5 * HEARTBEAT_MS), HEARTBEAT_MS);
      expect(stopped.map((h) => [h.hostId, h.state, h.runningJobs])).toEqual([
        ["host-a", "stopped", 0],
        ["host-b", "stale", 1],
      ]);

      await store.heartbeat({ ...a, startedAt: at(6 * HEARTBEAT_MS) }, at(6 * HEARTBEAT_MS));
      const revived = await store.list(at(6 * HEARTBEAT_MS), HEARTBEAT_MS);
      expect(revived[0]).toMatchObject({ hostId: "host-a", state: "up", startedAt: at(6 * HEARTBEAT_MS) });
    });

    test("a host's version, its own interval (stale after 3 of them) and its drain are kept", async () => {
      const store = new FleetHostStore(t.db);
      const c = {
        hostId: "host-c",
        labels: { bsd: 1 },
        capacity: 1,
        runningJobs: 1,
        startedAt: at(0),
        version: "1.2.3",
        heartbeatSecs: 60,
      };
      await store.heartbeat(c, at(0));
      // 4 of the reader's 15 s intervals, but not 3 of the host's own 60 s ones.
      expect(await store.list(at(4 * HEARTBEAT_MS), HEARTBEAT_MS)).toContainEqual(
        expect.objectContaining({ hostId: "host-c", state: "up", version: "1.2.3", heartbeatSecs: 60 }),
      );
      await store.heartbeat({ ...c, drainingSince: at(1_000) }, at(1_000));
      const draining = (await store.list(at(2_000), HEARTBEAT_MS)).find((h) => h.hostId === "host-c");
      expect(draining).toMatchObject({ state: "draining", drainingSince: at(1_000) });
      expect(
        (await store.list(at(1_000 + 180_001), HEARTBEAT_MS)).find((h) => h.hostId === "host-c")?.state,
      ).toBe("stale");
      // A restart clears the drain.
      await store.heartbeat({ ...c, startedAt: at(5_000) }, at(5_000));
      expect((await store.list(at(5_000), HEARTBEAT_MS)).find((h) => h.hostId === "host-c")?.state).toBe(
        "up",
      );
    });
  });
}
