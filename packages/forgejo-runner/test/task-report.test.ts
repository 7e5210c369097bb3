import type { JobEvent } from "@solstice/common";
import { Result } from "@solstice/forgejo-protocol";
import { describe, expect, it } from "vitest";
import { TaskReport } from "../src/report/task-report.ts";

const requestId = "7f1c8a43-52a4-4e0c-9b52-0d6f5c0a1b2c";
let clock = Date.parse("2026-11-22T10:00:00Z");
function ev(seq: number, body: Record<string, unknown>): JobEvent {
  clock += 1000;
  return {
    schema_version: "jobevent.v1",
    request_id: requestId,
    timestamp: new Date(clock).toISOString(),
    seq,
    ...body,
  } as JobEvent;
}

function job(): JobEvent[] {
  return [
    ev(0, { type: "job_started", label: "ubuntu-24.04", host: "h1" }),
    ev(1, { type: "log", step: null, stream: "system", text: "booting" }),
    ev(2, { type: "step_started", step: 0, name: "checkout" }),
    ev(3, { type: "log", step: 0, stream: "stdout", text: "checkout: HEAD is now at abc" }),
    ev(4, { type: "step_finished", step: 0, exit_code: 0, duration_ms: 5, conclusion: "success" }),
    ev(5, { type: "step_started", step: 1, name: "build" }),
    ev(6, { type: "log", step: 1, stream: "stdout", text: "token is s3cr3t" }),
    ev(7, { type: "log", step: 1, stream: "stdout", text: "::add-mask::hunter2" }),
    ev(8, { type: "log", step: 1, stream: "stderr", text: "pw hunter2" }),
    ev(9, { type: "step_finished", step: 1, exit_code: 2, duration_ms: 5, conclusion: "failure" }),
    ev(10, { type: "step_finished", step: 2, exit_code: null, duration_ms: 0, conclusion: "skipped" }),
    ev(11, { type: "job_finished", conclusion: "failure", reason: 'step "build" exited with 2' }),
  ];
}

function contents(report: TaskReport): string[] {
  return report.pendingRows().rows.map((r) => r.content);
}

describe("TaskReport", () => {
  it("turns events into rows, step states and the result, masking secrets and ::add-mask:: values", () => {
    const report = new TaskReport({ taskId: 42n, requestId, mask: ["s3cr3t"], stepIds: ["co", "b", "t"] });
    for (const event of job()) report.apply(event);
    expect(contents(report)).toEqual([
      "Solstice CI: running in a VM of ubuntu-24.04 on h1",
      "booting",
      "checkout: HEAD is now at abc",
      "token is ***",
      "::add-mask::***",
      "pw ***",
      'Solstice CI: the job failed: step "build" exited with 2',
    ]);
    expect(report.done).toBe(true);
    const state = report.taskState();
    expect(state.result).toBe(Result.FAILURE);
    expect(state.steps?.map((s) => [s.result, Number(s.logIndex), Number(s.logLength)])).toEqual([
      [Result.SUCCESS, 2, 1],
      [Result.FAILURE, 3, 3],
      [Result.SKIPPED, 6, 0],
    ]);
  });

  it("counts a step's rows that come after its step_finished (continue-on-error) in its range", () => {
    const report = new TaskReport({ taskId: 43n, requestId, stepIds: ["lint", "build"] });
    const continued = "the step failed (exited with 5); continue_on_error lets the job go on";
    for (const event of [
      ev(0, { type: "job_started" }),
      ev(1, { type: "step_started", step: 0, name: "lint" }),
      ev(2, { type: "log", step: 0, stream: "stdout", text: "lint failed" }),
      ev(3, { type: "step_finished", step: 0, exit_code: 5, duration_ms: 5, conclusion: "failure" }),
      // The engine says why the job goes on once the step has finished.
      ev(4, { type: "log", step: 0, stream: "system", text: continued }),
      ev(5, { type: "step_started", step: 1, name: "build" }),
      ev(6, { type: "log", step: 1, stream: "stdout", text: "built" }),
      ev(7, { type: "step_finished", step: 1, exit_code: 0, duration_ms: 5, conclusion: "success" }),
      // A late row of a step after the next one began cannot join its range (ranges do not overlap).
      ev(8, { type: "log", step: 0, stream: "system", text: "late" }),
      ev(9, { type: "job_finished", conclusion: "success" }),
    ]) {
      report.apply(event);
    }
    const rows = contents(report);
    expect(rows).toEqual(["Solstice CI: running in a VM", "lint failed", continued, "built", "late"]);
    const steps = report.taskState().steps?.map((s) => [Number(s.logIndex), Number(s.logLength)]);
    expect(steps).toEqual([
      [1, 2],
      [3, 1],
    ]);
    const snapshot = report.snapshot();
    expect(snapshot.steps.map((s) => [s.logIndex, s.logLength])).toEqual(steps);
  });

  it("turns ::group:: and ::endgroup:: into the markers Forgejo folds", () => {
    const report = new TaskReport({ taskId: 2n, requestId });
    report.apply(
      ev(0, { type: "log", step: 0, stream: "stdout", text: "::group::Build s3cr3t\nmake\n::endgroup::" }),
    );
    report.addMask(["s3cr3t"]);
    report.apply(ev(1, { type: "log", step: 0, stream: "stdout", text: "::group::again s3cr3t" }));
    expect(contents(report)).toEqual(["##[group]Build s3cr3t", "make", "##[endgroup]", "##[group]again ***"]);
  });

  it("keeps rows until acknowledged, resends from the acknowledged index, and refuses a shrinking ack", () => {
    const report = new TaskReport({ taskId: 1n, requestId });
    for (const event of job().slice(0, 4)) report.apply(event);
    expect(report.pendingRows()).toMatchObject({ index: 0 });
    expect(report.pendingCount).toBe(3);
    report.acknowledge(2, false);
    expect(report.pendingRows().index).toBe(2);
    expect(contents(report)).toEqual(["checkout: HEAD is now at abc"]);
    expect(report.durableSeq).toBe(3);
    report.acknowledge(3, false);
    expect(report.durableSeq).toBe(4);
    expect(() => report.acknowledge(1, false)).toThrow(/fewer than the 3/);
  });

  it("closes the log only when no_more went out with every row", () => {
    const report = new TaskReport({ taskId: 1n, requestId });
    for (const event of job()) report.apply(event);
    const { rows, last } = report.pendingRows(3);
    expect(rows).toHaveLength(3);
    expect(last).toBe(false);
    report.acknowledge(3, false);
    expect(report.logClosed).toBe(false);
    report.acknowledge(7, true);
    expect(report.logClosed).toBe(true);
  });

  it("marks steps without a result cancelled when the job ends, as Forgejo does", () => {
    const report = new TaskReport({ taskId: 1n, requestId, stepIds: [undefined, undefined] });
    report.apply(ev(0, { type: "step_started", step: 0, name: "a" }));
    report.apply(ev(1, { type: "job_finished", conclusion: "cancelled", reason: "cancelled in Forgejo" }));
    const state = report.taskState();
    expect(state.result).toBe(Result.CANCELLED);
    expect(state.steps?.map((s) => s.result)).toEqual([Result.CANCELLED, Result.CANCELLED]);
  });

  it("resumes from a snapshot: replayed events give the same rows at the same indexes", () => {
    const events = job();
    const startedAt = new Date("2026-11-22T09:59:00Z");
    const first = new TaskReport({ taskId: 9n, requestId, stepIds: ["co", "b", "t"], startedAt });
    for (const event of events.slice(0, 7)) first.apply(event);
    first.acknowledge(3, false);
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    expect(snapshot.durableSeq).toBe(6);

    const resumed = TaskReport.fromSnapshot(snapshot);
    expect(resumed.unsynced).toBe(true);
    resumed.syncServerAck(3);
    for (const event of events.slice(snapshot.durableSeq)) resumed.apply(event);
    const uninterrupted = new TaskReport({ taskId: 9n, requestId, stepIds: ["co", "b", "t"], startedAt });
    for (const event of events) uninterrupted.apply(event);
    uninterrupted.acknowledge(3, false);
    expect(resumed.pendingRows()).toEqual(uninterrupted.pendingRows());
    expect(resumed.taskState()).toEqual(uninterrupted.taskState());
  });

  it("splits a multi-line log event into rows, and resumes mid-event without resending or shifting rows", () => {
    const lines = Array.from({ length: 6 }, (_, i) => `l${i + 1}`);
    const events = [
      ev(0, { type: "step_started", step: 0, name: "s" }),
      ev(1, { type: "log", step: 0, stream: "stdout", text: lines.slice(0, 3).join("\n") }),
      ev(2, { type: "log", step: 0, stream: "stdout", text: lines.slice(3).join("\n") }),
      ev(3, { type: "step_finished", step: 0, exit_code: 0, duration_ms: 1, conclusion: "success" }),
      ev(4, { type: "job_finished", conclusion: "success" }),
    ];
    const first = new TaskReport({ taskId: 5n, requestId, stepIds: [undefined] });
    for (const event of events.slice(0, 3)) first.apply(event);
    expect(contents(first)).toEqual(lines);
    // Forgejo took 2 rows (part of event 1), the journal was saved, then Forgejo took 2 more
    // before the runner died: the journal restarts at event 1 (its first row, 0).
    first.acknowledge(2, false);
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    expect([snapshot.durableSeq, snapshot.ackIndex]).toEqual([1, 0]);

    const resumed = TaskReport.fromSnapshot(snapshot);
    resumed.addRunnerRow("restarted");
    resumed.syncServerAck(4);
    for (const event of events.slice(snapshot.durableSeq)) resumed.apply(event);
    expect(resumed.pendingRows().index).toBe(4);
    // The runner's notice goes where the server's log ended.
    expect(contents(resumed)).toEqual(["restarted", "l5", "l6"]);
    expect(resumed.taskState().steps?.map((s) => [Number(s.logIndex), Number(s.logLength)])).toEqual([
      [0, 7],
    ]);
  });

  it("renders the job outputs from step outputs once done, and only those not yet sent", () => {
    const report = new TaskReport({
      taskId: 1n,
      requestId,
      stepIds: ["v"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, not a JS template
      outputTemplates: { version: "${{ steps.v.outputs.version }}", literal: "x" },
    });
    report.apply(ev(0, { type: "step_started", step: 0, name: "v" }));
    report.apply(
      ev(1, {
        type: "step_finished",
        step: 0,
        exit_code: 0,
        duration_ms: 1,
        conclusion: "success",
        outputs: { version: "1.2" },
      }),
    );
    expect(report.unsentOutputs()).toEqual({});
    report.apply(ev(2, { type: "job_finished", conclusion: "success" }));
    expect(report.unsentOutputs()).toEqual({ version: "1.2", literal: "x" });
    report.outputsSent(["version"]);
    expect(report.unsentOutputs()).toEqual({ literal: "x" });
  });
});
