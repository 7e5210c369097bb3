import { type JobEvent, JobEventSchema } from "@solstice/common";
import { describe, expect, it } from "vitest";
import { JobEventEmitter } from "../src/exec/job-events.ts";

const requestId = "6f1c1c4e-1f0a-4c55-9c59-2a4c8a9d0b11";

describe("JobEventEmitter", () => {
  it("emits valid job events with seq 0, 1, 2... in order", async () => {
    const events: JobEvent[] = [];
    const emitter = new JobEventEmitter(requestId, (e) => {
      events.push(e);
    });
    emitter.jobStarted({ host: "h", label: "l" });
    emitter.system("booting");
    emitter.stepStarted(0, "Build");
    emitter.log(0, "stdout", "out");
    emitter.log(0, "stderr", "err");
    emitter.stepFinished(0, { exitCode: 0, durationMs: 12.4, conclusion: "success" });
    emitter.jobFinished("success");
    await emitter.flush();
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(events.map((e) => e.type)).toEqual([
      "job_started",
      "log",
      "step_started",
      "log",
      "log",
      "step_finished",
      "job_finished",
    ]);
    for (const event of events) expect(JobEventSchema.parse(event)).toEqual(event);
    expect(events[1]).toMatchObject({ step: null, stream: "system", text: "booting", request_id: requestId });
    expect(events[4]).toMatchObject({ step: 0, stream: "stderr", text: "err" });
    expect(events[5]).toMatchObject({ exit_code: 0, duration_ms: 12, conclusion: "success" });
  });

  it("calls an async sink one event at a time, in order", async () => {
    const seen: number[] = [];
    let active = 0;
    let maxActive = 0;
    const emitter = new JobEventEmitter(requestId, async (e) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 5 - (e.seq % 5)));
      seen.push(e.seq);
      active -= 1;
    });
    for (let i = 0; i < 10; i++) emitter.system(`line ${i}`);
    await emitter.flush();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(maxActive).toBe(1);
  });

  it("masks secrets in log text, step names and the reason", async () => {
    const events: JobEvent[] = [];
    const emitter = new JobEventEmitter(requestId, (e) => void events.push(e), { mask: ["hunter2"] });
    emitter.stepStarted(0, "login with hunter2");
    emitter.log(0, "stdout", "password=hunter2");
    emitter.jobFinished("failure", "hunter2 rejected");
    await emitter.flush();
    expect(JSON.stringify(events)).not.toContain("hunter2");
    expect(events[1]).toMatchObject({ text: "password=***" });
  });

  it("survives a failing sink and counts the lost events", async () => {
    const delivered: number[] = [];
    const emitter = new JobEventEmitter(requestId, (e) => {
      if (e.seq === 1) throw new Error("broker down");
      delivered.push(e.seq);
    });
    emitter.system("a");
    emitter.system("b");
    emitter.system("c");
    await emitter.flush();
    expect(delivered).toEqual([0, 2]);
    expect(emitter.sinkFailures).toBe(1);
  });

  it("refuses events after job_finished", () => {
    const emitter = new JobEventEmitter(requestId, () => undefined);
    emitter.jobFinished("cancelled", "stopped");
    expect(() => emitter.system("late")).toThrow(/after job_finished/);
  });
});
