import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CancelRequest, JobEvent } from "@solstice/common";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  base64Forms,
  CapacitySlots,
  cancelJob,
  JobEventRouter,
  maskValues,
  NoRunnerLabelsError,
  parseRunnerLabels,
  type RoutedJob,
  resolveRunnerLabels,
  TaskJournal,
} from "../src/index.ts";

// runner-core's parts, without servers: labels, slots, the event router, the cancel fallback,
// mask values and the journal.

const HINT = "--labels (X_LABELS)";
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("runner labels", () => {
  it("keeps names, drops duplicates and refuses bad names", () => {
    expect(
      parseRunnerLabels("omnios-bloody, ubuntu-24.04:solstice:x ,omnios-bloody").map((l) => l.name),
    ).toEqual(["omnios-bloody", "ubuntu-24.04"]);
    expect(parseRunnerLabels(["a:docker://node:20"])[0]).toEqual({
      name: "a",
      scheme: "docker",
      arg: "//node:20",
    });
    expect(() => parseRunnerLabels(":host")).toThrow(/the name is empty/);
  });
});

describe("the labels a runner offers", () => {
  const IMAGE_MAP = join(import.meta.dirname, "..", "..", "..", "examples", "orchestrator-image-map.yaml");

  it("are --labels when given, else the image map's labels and aliases, else the registered ones", async () => {
    expect(
      (await resolveRunnerLabels({ flag: "a,b:x", imageMap: IMAGE_MAP, flagHint: HINT })).labels.map(
        (l) => l.name,
      ),
    ).toEqual(["a", "b"]);
    const fromMap = await resolveRunnerLabels({ flag: undefined, imageMap: IMAGE_MAP, flagHint: HINT });
    expect(fromMap.from).toBe(IMAGE_MAP);
    const names = fromMap.labels.map((l) => l.name);
    expect(names).toEqual(
      expect.arrayContaining(["openindiana-hipster", "omnios-bloody", "illumos-latest", "ubuntu-latest"]),
    );
    expect(
      (await resolveRunnerLabels({ flag: "", imageMap: undefined, registered: ["r:host"], flagHint: HINT }))
        .labels,
    ).toEqual([{ name: "r", scheme: "host", arg: undefined }]);
    const none = resolveRunnerLabels({ flag: undefined, imageMap: undefined, flagHint: HINT });
    await expect(none).rejects.toBeInstanceOf(NoRunnerLabelsError);
    await expect(none).rejects.toMatchObject({ hint: expect.stringContaining("--labels (X_LABELS)") });
  });
});

describe("capacity slots", () => {
  it("hold a slot from take() to release, release once, and wake waiters", async () => {
    const slots = new CapacitySlots();
    const release = slots.take();
    expect(slots.held).toBe(1);
    let woke = false;
    const waiting = slots.whenBelow(1, new AbortController().signal).then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    release();
    release();
    await waiting;
    expect(woke).toBe(true);
    expect(slots.held).toBe(0);
  });

  it("stop waiting when the signal aborts", async () => {
    const slots = new CapacitySlots();
    slots.take();
    const stop = new AbortController();
    const waiting = slots.whenBelow(1, stop.signal);
    stop.abort();
    await waiting;
    expect(slots.held).toBe(1);
  });
});

class RecordingJob implements RoutedJob {
  readonly applied: number[] = [];
  readonly gaps: string[] = [];
  durable = -1;
  readonly #waiters: { seq: number; resolve: () => void }[] = [];
  apply(event: JobEvent): void {
    this.applied.push(event.seq);
  }
  lost(from: number, to: number): void {
    this.gaps.push(`${from}-${to}`);
  }
  changed(): void {}
  waitDurable(seq: number): Promise<void> {
    if (seq <= this.durable) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }
  makeDurable(seq: number): void {
    this.durable = seq;
    for (const w of this.#waiters.filter((w) => w.seq <= seq)) w.resolve();
  }
}

const REQUEST = "0b8f2c1e-5a8b-4a57-9f2e-7f1f0d4c2a11";
const logEvent = (seq: number): JobEvent => ({
  type: "log",
  schema_version: "jobevent.v1",
  request_id: REQUEST,
  timestamp: "2026-12-04T10:00:00Z",
  seq,
  step: 0,
  stream: "stdout",
  text: `line ${seq}`,
});

describe("the job event router", () => {
  it("applies events in sequence order and resolves a delivery only once it is durable", async () => {
    const router = new JobEventRouter<RecordingJob>();
    const job = new RecordingJob();
    router.track(REQUEST, job);
    const second = router.deliver(logEvent(1));
    await Promise.resolve();
    expect(job.applied).toEqual([]);
    const first = router.deliver(logEvent(0));
    await Promise.resolve();
    expect(job.applied).toEqual([0, 1]);
    let settled = false;
    void second.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    job.makeDurable(1);
    expect(await first).toBe("applied");
    expect(await second).toBe("applied");
  });

  it("acknowledges duplicates and events of unknown jobs at once; a resumed job continues at firstSeq", async () => {
    const router = new JobEventRouter<RecordingJob>();
    expect(await router.deliver(logEvent(0))).toBe("unknown-job");
    const job = new RecordingJob();
    router.track(REQUEST, job, 5);
    job.makeDurable(5);
    expect(await router.deliver(logEvent(5))).toBe("applied");
    expect(await router.deliver(logEvent(5))).toBe("duplicate");
    expect(await router.deliver(logEvent(3))).toBe("duplicate");
    expect(job.applied).toEqual([5]);
    router.untrack(REQUEST);
    expect(router.size).toBe(0);
  });
});

describe("the cancel path", () => {
  it("publishes a cancel request and reports the job cancelled when no orchestrator confirms", async () => {
    const sent: CancelRequest[] = [];
    let fallback = 0;
    cancelJob({
      queue: { publishCancel: async (c) => void sent.push(c) },
      requestId: REQUEST,
      reason: "cancelled in the forge",
      requestedBy: "test-runner",
      graceMs: 20,
      onNoConfirmation: () => {
        fallback += 1;
      },
      onPublishError: () => undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sent.map((c) => [c.request_id, c.reason, c.requested_by])).toEqual([
      [REQUEST, "cancelled in the forge", "test-runner"],
    ]);
    expect(fallback).toBe(1);
  });

  it("does not fall back once the job ended; a failed publish is reported", async () => {
    let fallback = 0;
    const errors: unknown[] = [];
    const pending = cancelJob({
      queue: { publishCancel: async () => Promise.reject(new Error("broker down")) },
      requestId: REQUEST,
      reason: "r",
      requestedBy: "t",
      graceMs: 20,
      onNoConfirmation: () => {
        fallback += 1;
      },
      onPublishError: (e) => errors.push(e),
    });
    pending.confirmed();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fallback).toBe(0);
    expect(errors).toHaveLength(1);
  });
});

describe("mask values", () => {
  it("mask tokens in their base64 forms too (git Basic auth included)", () => {
    const token = "ghs_abcdef123456";
    const values = maskValues(["s3cret", ""], [token]);
    expect(values).toContain("s3cret");
    expect(values).toContain(token);
    expect(values).toContain(Buffer.from(token).toString("base64"));
    expect(values).toContain(Buffer.from(`x-access-token:${token}`).toString("base64").replace(/=+$/, ""));
    expect(values).not.toContain("");
    expect(base64Forms("abcd")).toEqual(expect.arrayContaining(["YWJjZA==", "YWJjZA"]));
  });
});

describe("the task journal", () => {
  const Entry = z.object({ taskId: z.string(), ack: z.number() });

  it("keeps one 0600 file per task, reads them back through the schema, reports bad ones", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runner-core-journal-"));
    dirs.push(dir);
    const journal = new TaskJournal(dir, Entry);
    await journal.save({ taskId: "41", ack: 1 });
    await journal.save({ taskId: "job-7f1c", ack: 2 });
    expect(((await stat(join(dir, "41.json"))).mode & 0o777).toString(8)).toBe("600");
    const bad = new TaskJournal(dir, z.object({ taskId: z.string(), ack: z.string() }));
    const problems: string[] = [];
    expect(await bad.load((file) => problems.push(file))).toEqual([]);
    expect(problems).toHaveLength(2);
    expect((await journal.load(() => undefined)).map((e) => e.taskId)).toEqual(["41", "job-7f1c"]);
    await journal.remove("41");
    expect(await readdir(dir)).toEqual(["job-7f1c.json"]);
  });

  it("two writers saving the same task at once never share a temporary file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runner-core-journal-"));
    dirs.push(dir);
    // Two journals on one directory: a runner restarting while the old process still saves, or
    // two processes given the same --journal-dir. Each save is whole; the last one wins.
    const first = new TaskJournal(dir, Entry);
    const second = new TaskJournal(dir, Entry);
    const saves = Array.from({ length: 50 }, (_, i) =>
      (i % 2 === 0 ? first : second).save({ taskId: "9", ack: i }),
    );
    await expect(Promise.all(saves)).resolves.toHaveLength(50);
    expect(await readdir(dir)).toEqual(["9.json"]);
    const [entry] = await first.load(() => undefined);
    expect(entry?.ack).toBeGreaterThanOrEqual(0);
  });

  it("refuses a task id that is not a plain file name", async () => {
    const journal = new TaskJournal(join(tmpdir(), "never-written"), Entry);
    await expect(journal.save({ taskId: "../escape", ack: 0 })).rejects.toThrow(/cannot name a journal file/);
  });
});
