import type { JobEvent } from "@solstice/common";
import { eventually } from "@solstice/test-support";
import { describe, expect, it } from "vitest";
import type { FeedBatch } from "../src/report/job-report.ts";
import { JobReport } from "../src/report/job-report.ts";
import { JobReporter } from "../src/report/job-reporter.ts";

// The reporter's rounds with fake GitHub ends (pure: no server), for what a real run showed: the
// last lines, step_finished and job_finished often arrive together, before a round runs.

const REQUEST = "00000000-0000-4000-8000-000000000002";

function events(lines: number): JobEvent[] {
  const base = { schema_version: "jobevent.v1", request_id: REQUEST, timestamp: new Date().toISOString() };
  let seq = 0;
  const out: Record<string, unknown>[] = [
    { type: "step_started", step: 0, name: "Print" },
    {
      type: "log",
      step: 0,
      stream: "stdout",
      text: Array.from({ length: lines }, (_, i) => `line ${i + 1}`).join("\n"),
    },
    { type: "step_finished", step: 0, exit_code: 0, duration_ms: 5, conclusion: "success" },
    { type: "job_finished", conclusion: "success" },
  ];
  return out.map((e) => ({ ...base, seq: seq++, ...e }) as JobEvent);
}

describe("job reporter", () => {
  it("feeds a step's last lines before its log is uploaded, even when the job is already done", async () => {
    const report = new JobReport({
      steps: [{ externalId: "s-1", number: 1, displayName: "Print", contextName: "__run" }],
    });
    for (const event of events(250)) report.apply(event);
    const calls: string[] = [];
    const fed: string[] = [];
    const reporter = new JobReporter({
      report,
      results: {
        updateSteps: async () => void calls.push("steps"),
        uploadStepLog: async (id: string) => void calls.push(`step-log ${id}`),
        uploadStepSummary: async () => undefined,
        uploadJobLog: async () => void calls.push("job-log"),
      },
      feed: {
        send: async (batches: readonly FeedBatch[]) => {
          calls.push("feed");
          for (const batch of batches) fed.push(...batch.lines);
          return true;
        },
        close: () => undefined,
      },
      completeJob: async () => void calls.push("complete"),
      ids: { planId: "p", jobId: "j" },
      save: async () => undefined,
      remove: async () => undefined,
      intervalMs: 10,
    });
    reporter.start();
    await reporter.finished;
    expect(fed).toEqual(Array.from({ length: 250 }, (_, i) => `line ${i + 1}`));
    expect(calls).toEqual(["steps", "feed", "step-log s-1", "job-log", "complete"]);
  });

  it("journals how far each step was fed before the lines go (none fed twice after a kill -9)", async () => {
    const report = new JobReport({
      steps: [{ externalId: "s-1", number: 1, displayName: "Print", contextName: "__run" }],
    });
    // The step is still running: its lines are fed, its log is not durable yet.
    for (const event of events(150).slice(0, 2)) report.apply(event);
    const order: string[] = [];
    let journaledFeedFrom = -1;
    const reporter = new JobReporter({
      report,
      results: {
        updateSteps: async () => undefined,
        uploadStepLog: async () => undefined,
        uploadStepSummary: async () => undefined,
        uploadJobLog: async () => undefined,
      },
      feed: {
        send: async (batches: readonly FeedBatch[]) => {
          const last = batches.at(-1)!;
          order.push(`feed to ${last.startLine + last.lines.length - 1}`);
          return true;
        },
        close: () => undefined,
      },
      completeJob: async () => undefined,
      ids: { planId: "p", jobId: "j" },
      save: async (snapshot) => {
        journaledFeedFrom = snapshot.steps[0]!.feedFrom;
        order.push(`journal ${journaledFeedFrom}`);
      },
      remove: async () => undefined,
      intervalMs: 10,
    });
    reporter.start();
    await eventually("a feed round", () => order.length >= 2, 5000);
    await reporter.stop();
    expect(order.slice(0, 2)).toEqual(["journal 150", "feed to 150"]);
    // A report resumed from that journal feeds none of those lines again when they are replayed.
    const resumed = JobReport.fromSnapshot(report.snapshot());
    for (const event of events(160).slice(0, 2)) resumed.apply(event);
    const again = resumed.takeFeedLines();
    expect(again.map((b) => [b.startLine, b.lines.length])).toEqual([[151, 10]]);
  });
});
