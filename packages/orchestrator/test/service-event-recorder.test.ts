import { EventSequencer, type JobEvent, newJobRequest } from "@solstice/common";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { JobStore } from "../src/persistence/job-store.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { openJobEventChannel } from "../src/service/job-event-channel.ts";
import { JobEventRecorder } from "../src/service/job-event-recorder.ts";
import { openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// The recorder over the embedded database (PGlite): events to the owner, lines and the event
// high-water mark to the store; the mark always before the publish, lines by the job's end.
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

  function jobEvents(id: string): JobEvent[] {
    const seq = new EventSequencer(id);
    return [
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
  }

  test("publishes every event in order, stores the lines, marks steps started, raises the high-water mark", async () => {
    const id = await runningJob();
    const published: JobEvent[] = [];
    // Each event leaves only once the store covers its seq.
    const markAtPublish: number[] = [];
    const recorder = new JobEventRecorder({
      store,
      publish: async (e) => {
        markAtPublish.push((await store.nextEventSeq(id)) - e.seq);
        published.push(e);
      },
      flushEvents: 3,
      flushMs: 60_000,
    });
    const events = jobEvents(id);
    try {
      for (const e of events) await recorder.sink(e);
    } finally {
      await recorder.close();
    }
    expect(published).toEqual(events);
    expect(markAtPublish.every((d) => d >= 1)).toBe(true);
    expect(recorder.published).toBe(events.length);
    expect((await store.getLogs(id)).map((l) => [l.seq, l.step, l.stream, l.text])).toEqual([
      [1, null, "system", "booting"],
      [3, 0, "stdout", "a"],
      [4, 0, "stderr", "b"],
      [7, 1, "stdout", "c"],
    ]);
    expect((await store.getJob(id))?.stepsStarted).toBe(true);
    expect(await store.nextEventSeq(id)).toBe(events.length);
  });

  test("lines may trail the publishes while the store is slow, within a bound, never past the job's end", async () => {
    const id = await runningJob();
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    // A store that answers, slowly: every append waits for the gate.
    const slow: ConstructorParameters<typeof JobEventRecorder>[0]["store"] = {
      markStepsStarted: (requestId) => store.markStepsStarted(requestId),
      recordEventSeq: (requestId, next) => store.recordEventSeq(requestId, next),
      appendLogs: async (lines) => {
        await gate;
        return store.appendLogs(lines);
      },
    };
    const published: JobEvent[] = [];
    const recorder = new JobEventRecorder({
      store: slow,
      publish: async (e) => void published.push(e),
      flushEvents: 2,
      flushMs: 60_000,
      maxHeldBytes: 50,
    });
    const seq = new EventSequencer(id);
    // 10 lines of 10 bytes: under the 50-byte backlog they leave before they are stored.
    for (let i = 0; i < 4; i++) {
      await recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: `line ${i}    ` }));
    }
    expect(published.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(await store.getLogs(id)).toEqual([]);
    // Past the backlog bound, the next batch waits for the store.
    for (let i = 4; i < 8; i++) {
      void recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: `line ${i}    ` }));
    }
    const finished = recorder.sink(seq.next({ type: "job_finished", conclusion: "success" }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(published.length).toBeLessThan(9);
    openGate();
    await finished;
    await recorder.close();
    // The owner saw the job end only once every line was stored.
    expect(published.map((e) => e.seq)).toEqual(Array.from({ length: 9 }, (_, i) => i));
    expect((await store.getLogs(id)).map((l) => l.text.trim())).toEqual(
      Array.from({ length: 8 }, (_, i) => `line ${i}`),
    );
  });

  test("a job run again continues its sequence: its channel numbers from the store's mark", async () => {
    const id = await runningJob();
    await store.recordEventSeq(id, 40);
    const published: number[] = [];
    const channel = await openJobEventChannel(
      { store, queue: { publishEvent: async (e) => void published.push(e.seq) } },
      { requestId: id, owner: undefined, mask: ["s3cret"] },
    );
    channel.events.jobStarted({ host: "h", label: "fast" });
    channel.events.system("booting s3cret");
    channel.events.stepStarted(0, "build");
    channel.events.log(0, "stdout", "a");
    channel.events.jobFinished("success");
    await channel.close();
    await channel.close();
    expect(published).toEqual([40, 41, 42, 43, 44]);
    expect((await store.getLogs(id)).map((l) => [l.seq, l.text])).toEqual([
      [41, "booting ***"],
      [43, "a"],
    ]);
    expect(await store.nextEventSeq(id)).toBe(45);
    expect(channel.publishError).toBeUndefined();
    // The mark never goes down.
    await store.recordEventSeq(id, 3);
    expect(await store.nextEventSeq(id)).toBe(45);
  });

  test("a failing publish: the batch is stored first, the flush rejects, each failure is reported", async () => {
    const id = await runningJob();
    const failed: number[] = [];
    const recorder = new JobEventRecorder({
      store,
      publish: async () => {
        throw new Error("broker down");
      },
      onPublishError: (_e, event) => failed.push(event.seq),
    });
    const seq = new EventSequencer(id);
    await recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: "kept" }));
    await expect(recorder.sink(seq.next({ type: "job_finished", conclusion: "failure" }))).rejects.toThrow(
      "broker down",
    );
    expect(failed).toEqual([0, 1]);
    expect(recorder.publishFailures).toBe(2);
    expect((await store.getLogs(id)).map((l) => l.text)).toEqual(["kept"]);
    expect(await store.nextEventSeq(id)).toBe(2);
  });

  test("store failures are reported, not thrown: the owner still gets the events", async () => {
    const storeErrors: string[] = [];
    const published: string[] = [];
    // A job the store does not know: appending its lines fails (foreign key).
    const unknown = new EventSequencer(crypto.randomUUID());
    const recorder = new JobEventRecorder({
      store,
      publish: async (e) => {
        published.push(e.type);
      },
      onStoreError: (_e, what) => storeErrors.push(what),
    });
    await recorder.sink(unknown.next({ type: "log", step: 0, stream: "stdout", text: "x" }));
    await recorder.sink(unknown.next({ type: "job_finished", conclusion: "success" }));
    await recorder.close();
    expect(storeErrors).toEqual(["appendLogs"]);
    expect(published).toEqual(["log", "job_finished"]);
  });

  test("while the database does not answer: events are held in order, bounded, the engine not blocked", async () => {
    const id = await runningJob();
    let down = true;
    const tries: string[] = [];
    // The store as a restarting database makes it look: connections break until it is back.
    const flaky: ConstructorParameters<typeof JobEventRecorder>[0]["store"] = {
      markStepsStarted: (requestId) => store.markStepsStarted(requestId),
      recordEventSeq: (requestId, next) => store.recordEventSeq(requestId, next),
      appendLogs: async (lines) => {
        tries.push("appendLogs");
        if (down) throw new Error("Connection terminated unexpectedly");
        return store.appendLogs(lines);
      },
    };
    const published: JobEvent[] = [];
    const outages: string[] = [];
    const recorder = new JobEventRecorder({
      store: flaky,
      publish: async (e) => void published.push(e),
      flushEvents: 4,
      flushMs: 5,
      maxHeldBytes: 10_000,
      onStoreUnavailable: (_e, what) => outages.push(`down: ${what}`),
      onStoreBack: (what) => outages.push(`back: ${what}`),
    });
    const seq = new EventSequencer(id);
    const chunk = "x".repeat(999); // 1,000 bytes a line
    const started = Date.now();
    // 100 events of 2 lines (200 KB) while the database is away: none may block for long.
    for (let i = 0; i < 100; i++) {
      await recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: `${chunk}\n${i}` }));
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    // Lines may trail their publish, so the batch in flight when the outage began has left (its
    // lines are stored once the database is back); nothing after it.
    expect(published.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(recorder.heldBytes).toBeLessThan(15_000);
    expect(outages).toEqual(["down: appendLogs"]);
    down = false;
    await recorder.sink(seq.next({ type: "job_finished", conclusion: "success" }));
    await recorder.close();
    expect(outages).toEqual(["down: appendLogs", "back: appendLogs"]);
    expect(recorder.heldBytes).toBe(0);
    // Every event went out once, in order; those beyond the budget with one line for their text.
    expect(published.map((e) => e.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    const texts = published.flatMap((e) => (e.type === "log" ? [e.text] : []));
    const kept = texts.filter((t) => t.startsWith(chunk));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(100);
    expect(texts.filter((t) => !t.startsWith(chunk))).toEqual(
      Array.from(
        { length: 100 - kept.length },
        () => "[2 lines not kept: the database did not answer for too long]",
      ),
    );
    // ... and the store has the same, line by line.
    const stored = await store.getLogs(id, { limit: 10_000 });
    expect(stored.map((l) => l.text)).toEqual(texts.flatMap((t) => t.split("\n")));
    expect(await store.nextEventSeq(id)).toBe(101);
    expect(tries.length).toBeGreaterThan(1);
  });

  test("events buffered below the batch size are flushed by the timer or on close", async () => {
    const id = await runningJob();
    const published: string[] = [];
    const recorder = new JobEventRecorder({
      store,
      publish: async (e) => {
        published.push(e.type === "log" ? e.text : e.type);
      },
      flushEvents: 100,
      flushMs: 10,
    });
    const seq = new EventSequencer(id);
    await recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: "one" }));
    expect(published).toEqual([]);
    for (let i = 0; i < 200 && published.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(published).toEqual(["one"]);
    expect((await store.getLogs(id)).map((l) => l.text)).toEqual(["one"]);
    await recorder.sink(seq.next({ type: "log", step: 0, stream: "stdout", text: "two" }));
    await recorder.close();
    expect(published).toEqual(["one", "two"]);
    expect((await store.getLogs(id)).map((l) => l.text)).toEqual(["one", "two"]);
  });
});
