import { EventSequencer, type JobEvent, newJobRequest } from "@solstice/common";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { JobStore } from "../src/persistence/job-store.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { JobEventRecorder } from "../src/service/job-event-recorder.ts";
import { openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// The recorder over the embedded database (PGlite): events to the owner, lines to the store.
describe("JobEventRecorder", () => {
  let t: TestDatabase;
  let store: JobStore;
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    await migrateToLatest(t.db);
    store = new JobStore(t.db);
  });
  afterAll(async () => t?.close());

  async function runningJob(): Promise<string> {
    const req = newJobRequest({ source: "manual", repo_url: "https://x/y.git", commit_sha: "abc" });
    await store.recordAccepted(req, { hostId: "h", label: "fast" });
    await store.markRunning(req.request_id);
    return req.request_id;
  }

  test("publishes every event in order, stores the lines, marks steps started once", async () => {
    const id = await runningJob();
    const published: JobEvent[] = [];
    const recorder = new JobEventRecorder({
      store,
      publish: async (e) => {
        published.push(e);
      },
      flushLines: 3,
      flushMs: 60_000,
    });
    const seq = new EventSequencer(id);
    const events = [
      seq.next({ type: "job_started", host: "h", label: "fast" }),
      seq.next({ type: "log", step: null, stream: "system", text: "booting" }),
      seq.next({ type: "step_started", step: 0, name: "build" }),
      seq.next({ type: "log", step: 0, stream: "stdout", text: "a" }),
      seq.next({ type: "log", step: 0, stream: "stderr", text: "b" }),
      seq.next({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 5, conclusion: "success" }),
      seq.next({ type: "step_started", step: 1, name: "test" }),
      seq.next({ type: "log", step: 1, stream: "stdout", text: "c" }),
      seq.next({ type: "job_finished", conclusion: "success" }),
    ];
    try {
      for (const e of events) await recorder.sink(e);
    } finally {
      await recorder.close();
    }
    expect(published).toEqual(events);
    expect((await store.getLogs(id)).map((l) => [l.seq, l.step, l.stream, l.text])).toEqual([
      [1, null, "system", "booting"],
      [3, 0, "stdout", "a"],
      [4, 0, "stderr", "b"],
      [7, 1, "stdout", "c"],
    ]);
    expect((await store.getJob(id))?.stepsStarted).toBe(true);
  });

  test("lines are stored before a failing publish rejects; store failures are reported, not thrown", async () => {
    const id = await runningJob();
    const storeErrors: string[] = [];
    const recorder = new JobEventRecorder({
      store,
      publish: async () => {
        throw new Error("broker down");
      },
      flushLines: 1,
      onStoreError: (_e, what) => storeErrors.push(what),
    });
    const seq = new EventSequencer(id);
    await expect(
      recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: "kept" })),
    ).rejects.toThrow("broker down");
    expect((await store.getLogs(id)).map((l) => l.text)).toEqual(["kept"]);

    // A line for a job the store does not know fails in the store only.
    const unknown = new EventSequencer(crypto.randomUUID());
    const ok = new JobEventRecorder({
      store,
      publish: async () => {},
      flushLines: 1,
      onStoreError: (_e, what) => storeErrors.push(what),
    });
    await ok.sink(unknown.next({ type: "log", step: 0, stream: "stdout", text: "x" }));
    await ok.close();
    expect(storeErrors).toEqual(["appendLogs"]);
  });

  test("lines buffered below the batch size are stored by the timer or on close", async () => {
    const id = await runningJob();
    const recorder = new JobEventRecorder({ store, publish: async () => {}, flushLines: 100, flushMs: 10 });
    const seq = new EventSequencer(id);
    await recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: "one" }));
    for (let i = 0; i < 200 && (await store.getLogs(id)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect((await store.getLogs(id)).map((l) => l.text)).toEqual(["one"]);
    await recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: "two" }));
    await recorder.close();
    expect((await store.getLogs(id)).map((l) => l.text)).toEqual(["one", "two"]);
  });
});
