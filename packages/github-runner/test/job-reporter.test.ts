import type { JobEvent } from "@solstice/common";
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
});
