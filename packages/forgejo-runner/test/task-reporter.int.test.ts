import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobEvent } from "@solstice/common";
import { Code, ForgejoClient, Result } from "@solstice/forgejo-protocol";
import { ForgejoTestServer } from "@solstice/forgejo-test-server";
import { TaskJournal } from "@solstice/runner-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskJournalSchema } from "../src/report/task-journal-entry.ts";
import { TaskReport } from "../src/report/task-report.ts";
import { TaskReporter } from "../src/report/task-reporter.ts";

// The reporter against the Forgejo protocol test server (no VM, no queue): a job's events become
// rows and states; when UpdateLog or UpdateTask fail, rows are sent again from the acknowledged
// index and arrive once, in order; events are released only once durable; a cancel in Forgejo
// reaches the runner through UpdateTask's answer.

let server: ForgejoTestServer;
let client: ForgejoClient;
let dir: string;
const requestId = "0f6f9b7e-8a43-4c1e-9d36-2b1f6f1d2a11";

beforeAll(async () => {
  server = await ForgejoTestServer.start();
  dir = await mkdtemp(join(tmpdir(), "reporter-"));
  const registrar = new ForgejoClient({ instance: server.url });
  const runner = await registrar.register({
    name: "reporter-test",
    token: server.createRegistrationToken(),
    version: "test",
    labels: ["x"],
  });
  registrar.close();
  client = new ForgejoClient({
    instance: server.url,
    credentials: { uuid: runner.uuid, token: runner.token },
  });
});

afterAll(async () => {
  client?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function assignedTask(): Promise<bigint> {
  const added = server.addTask({
    workflow: "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo\n",
  });
  const { task } = await client.fetchTask(0n);
  expect(task?.id).toBe(added.id);
  return added.id;
}

let seq = 0;
let clock = Date.parse("2026-11-22T10:00:00Z");
function event(body: Record<string, unknown>): JobEvent {
  clock += 10;
  return {
    schema_version: "jobevent.v1",
    request_id: requestId,
    timestamp: new Date(clock).toISOString(),
    seq: seq++,
    ...body,
  } as JobEvent;
}

describe("TaskReporter", () => {
  it("resends from the acknowledged index after failures: every row once, in order, then the final state", async () => {
    seq = 0;
    const taskId = await assignedTask();
    const journal = new TaskJournal(join(dir, "journal-1"), taskJournalSchema);
    const report = new TaskReport({ taskId, requestId, mask: ["pa55"], stepIds: [undefined] });
    const reporter = new TaskReporter({ client, report, journal, intervalMs: 50, flushRows: 10 });
    reporter.start();
    const waits: Promise<void>[] = [];
    const apply = (e: JobEvent) => {
      report.apply(e);
      reporter.nudge();
      waits.push(reporter.waitDurable(e.seq));
    };
    apply(event({ type: "step_started", step: 0, name: "s" }));
    server.failNext("UpdateLog", 3);
    server.failNext("UpdateTask", 2);
    for (let i = 1; i <= 120; i += 1)
      apply(event({ type: "log", step: 0, stream: "stdout", text: `row ${i} pa55` }));
    apply(event({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 5, conclusion: "success" }));
    apply(event({ type: "job_finished", conclusion: "success" }));
    await reporter.finished;
    await Promise.all(waits);

    const task = server.task(taskId);
    expect(task.rows.map((r) => r.content)).toEqual(
      Array.from({ length: 120 }, (_, i) => `row ${i + 1} ***`),
    );
    expect(task.result).toBe(Result.SUCCESS);
    expect(task.state.steps.map((s) => [s.result, Number(s.logIndex), Number(s.logLength)])).toEqual([
      [Result.SUCCESS, 0, 120],
    ]);
    expect(task.noMore).toBe(true);
    const failed = server.calls.filter((c) => c.injected === true).map((c) => c.procedure);
    expect(failed.filter((p) => p === "UpdateLog")).toHaveLength(3);
    expect(failed.filter((p) => p === "UpdateTask")).toHaveLength(2);
    // No journal left once Forgejo has everything.
    expect(await readdir(join(dir, "journal-1")).catch(() => [])).toEqual([]);
  });

  it("sends a few rows within the log latency, not at the next report interval", async () => {
    seq = 0;
    const taskId = await assignedTask();
    const report = new TaskReport({ taskId, requestId, stepIds: [undefined] });
    // An interval no test waits for: only the latency bound can bring the rows in time.
    const reporter = new TaskReporter({
      client,
      report,
      journal: new TaskJournal(join(dir, "journal-4"), taskJournalSchema),
      intervalMs: 600_000,
      flushRows: 1000,
      logLatencyMs: 20,
    });
    reporter.start();
    // The first round (at start) has gone out with the heartbeat and no rows.
    await server.waitForTask(taskId, (t) => t.updateCount >= 1, 10_000);
    const durable: Promise<void>[] = [];
    for (const text of ["one", "two", "three"]) {
      const e = event({ type: "log", step: 0, stream: "stdout", text });
      report.apply(e);
      reporter.nudge();
      durable.push(reporter.waitDurable(e.seq));
    }
    const task = await server.waitForTask(taskId, (t) => t.rows.length === 3, 10_000);
    expect(task.rows.map((r) => r.content)).toEqual(["one", "two", "three"]);
    // Released once the journal holds them (saved beside the next exchange, not before it).
    await Promise.all(durable);
    await reporter.stop();
  });

  it("hears a cancel in Forgejo through UpdateTask's answer", async () => {
    seq = 0;
    const taskId = await assignedTask();
    const report = new TaskReport({ taskId, requestId, stepIds: [undefined] });
    let cancelled = 0;
    const reporter = new TaskReporter({
      client,
      report,
      journal: new TaskJournal(join(dir, "journal-2"), taskJournalSchema),
      intervalMs: 50,
      onCancelled: () => {
        cancelled += 1;
        report.finish(Result.CANCELLED);
        reporter.nudge();
      },
    });
    reporter.start();
    report.apply(event({ type: "step_started", step: 0, name: "s" }));
    report.apply(event({ type: "log", step: 0, stream: "stdout", text: "working" }));
    await server.waitForTask(taskId, (t) => t.rows.length === 1, 10_000);
    server.cancelTask(taskId);
    await reporter.finished;
    expect(cancelled).toBe(1);
    expect(server.task(taskId).result).toBe(Result.CANCELLED);
  });

  it("treats an archived log (AlreadyExists) as complete", async () => {
    seq = 0;
    const taskId = await assignedTask();
    await client.updateLog({
      taskId,
      index: 0n,
      rows: [{ $typeName: "runner.v1.LogRow", content: "x" }],
      noMore: true,
    });
    const report = new TaskReport({ taskId, requestId });
    // Two rows where the server holds one: it must write, and refuses (archived).
    report.addRunnerRow("late row 1");
    report.addRunnerRow("late row 2");
    report.finish(Result.FAILURE);
    const reporter = new TaskReporter({
      client,
      report,
      journal: new TaskJournal(join(dir, "journal-3"), taskJournalSchema),
      intervalMs: 50,
    });
    reporter.start();
    await reporter.finished;
    expect(report.logClosed).toBe(true);
    expect(server.calls.some((c) => c.procedure === "UpdateLog" && c.code === Code[Code.AlreadyExists])).toBe(
      true,
    );
  });
});
