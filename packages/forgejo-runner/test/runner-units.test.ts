import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskJournal } from "@solstice/runner-core";
import { afterAll, describe, expect, it } from "vitest";
import { nextPollDelay } from "../src/poller/poll-delay.ts";
import { taskJournalSchema } from "../src/report/task-journal-entry.ts";
import { TaskReport } from "../src/report/task-report.ts";
import { readRunnerState, writeRunnerState } from "../src/state/runner-state.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("poll delays", () => {
  const settings = { intervalMs: 2000, authRetryMs: 60_000, maxBackoffMs: 60_000 };
  it("asks again at once after a task, after the interval when empty, slowly when unauthorized", () => {
    expect(nextPollDelay("task", 0, settings)).toBe(0);
    expect(nextPollDelay("empty", 0, settings)).toBe(2000);
    expect(nextPollDelay("unauthorized", 0, settings)).toBe(60_000);
  });
  it("backs off exponentially with jitter, up to the cap", () => {
    expect(nextPollDelay("error", 1, settings, () => 0.5)).toBe(2000);
    expect(nextPollDelay("error", 3, settings, () => 0.5)).toBe(8000);
    expect(nextPollDelay("error", 30, settings, () => 1)).toBe(72_000);
    expect(nextPollDelay("error", 30, settings, () => 0)).toBe(48_000);
  });
});

describe("the state file", () => {
  it("is written mode 0600 in the Forgejo runner's layout and read back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runner-state-"));
    dirs.push(dir);
    const file = join(dir, "sub", ".runner");
    const state = {
      id: 3,
      uuid: "u-1",
      name: "r1",
      token: "t0k",
      address: "http://127.0.0.1:3000",
      labels: ["a"],
    };
    await writeRunnerState(file, state);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(file, "utf8"));
    expect(Object.keys(json)).toEqual(["WARNING", "id", "uuid", "name", "token", "address", "labels"]);
    expect(await readRunnerState(file)).toMatchObject(state);
  });

  it("names the file and the field when it is wrong", async () => {
    const dir = await mkdtemp(join(tmpdir(), "runner-state-"));
    dirs.push(dir);
    const file = join(dir, ".runner");
    await expect(readRunnerState(file)).rejects.toThrow(
      /\.runner: no such file: the runner is not registered/,
    );
    await writeFile(file, JSON.stringify({ id: 1, uuid: "u", name: "n", address: "http://x" }));
    await expect(readRunnerState(file)).rejects.toThrow(/\.runner: token: /);
  });
});

describe("the task journal", () => {
  it("applies saves and removals of a task in call order, even when they overlap", async () => {
    const dir = await mkdtemp(join(tmpdir(), "forgejo-journal-"));
    dirs.push(dir);
    const journal = new TaskJournal(dir, taskJournalSchema);
    const report = new TaskReport({
      taskId: 9n,
      requestId: "7f1c8a43-52a4-4e0c-9b52-0d6f5c0a1b2c",
      mask: [],
    });
    const snapshots = [0, 1, 2, 3].map((ackIndex) => ({ ...report.snapshot(), ackIndex }));
    await Promise.all(snapshots.map((s) => journal.save(s)));
    const loaded = await journal.load(() => undefined);
    expect(loaded.map((s) => [s.taskId, s.ackIndex])).toEqual([["9", 3]]);

    const last = journal.save({ ...report.snapshot(), ackIndex: 4 });
    await Promise.all([last, journal.remove("9")]);
    expect(await journal.load(() => undefined)).toEqual([]);
  });
});
