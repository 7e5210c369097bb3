import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobEvent } from "@solstice/common";
import { TaskJournal } from "@solstice/runner-core";
import { afterAll, describe, expect, it } from "vitest";
import { appTargetUrl, chooseDaemonMode } from "../src/cli/daemon-mode.ts";
import { mintRetryDelay } from "../src/daemon/app-runner-pool.ts";
import { JobTokenStore } from "../src/daemon/job-token-store.ts";
import { GitHubJobJournalEntrySchema, jobJournalSchema } from "../src/report/job-journal-entry.ts";
import { JobReport } from "../src/report/job-report.ts";
import { planReport, type ReportView } from "../src/report/report-plan.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const REQUEST = "00000000-0000-4000-8000-000000000001";
let seq = 0;
function event(e: Record<string, unknown> & { type: JobEvent["type"] }): JobEvent {
  return {
    schema_version: "jobevent.v1",
    request_id: REQUEST,
    timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
    seq: seq++,
    ...e,
  } as JobEvent;
}

function newReport(): JobReport {
  seq = 0;
  return new JobReport({
    steps: [
      { externalId: "s-1", number: 1, displayName: "Build", contextName: "build" },
      { externalId: "s-2", number: 2, displayName: "Test", contextName: "__run" },
    ],
    mask: ["hunter2"],
    stepIds: ["build", undefined],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, not a JS template
    outputTemplates: { version: "${{ steps.build.outputs.version }}" },
  });
}

const idle: ReportView = {
  stepsChanged: false,
  pendingStepLogs: [],
  done: false,
  jobLogUploaded: false,
  completed: false,
  feeding: true,
};

describe("the reporter's plan", () => {
  it("sends step records, then live lines, then finished steps' logs while the job runs", () => {
    expect(planReport({ ...idle, stepsChanged: true, pendingStepLogs: [0, 1] })).toEqual([
      { kind: "steps-update" },
      { kind: "feed" },
      { kind: "upload-step-log", index: 0 },
      { kind: "upload-step-log", index: 1 },
    ]);
    expect(planReport(idle)).toEqual([{ kind: "feed" }]);
  });

  it("ends with the job log, then completejob, and nothing once completed", () => {
    const done = { ...idle, done: true, feeding: false, pendingStepLogs: [1] };
    expect(planReport(done)).toEqual([
      { kind: "upload-step-log", index: 1 },
      { kind: "upload-job-log" },
      { kind: "complete-job" },
    ]);
    expect(planReport({ ...done, pendingStepLogs: [], jobLogUploaded: true })).toEqual([
      { kind: "complete-job" },
    ]);
    expect(planReport({ ...done, completed: true })).toEqual([]);
  });
});

describe("the job report's durable point and snapshot", () => {
  it("holds a step's events until its log is uploaded, and replays only what GitHub lacks", () => {
    const report = newReport();
    report.apply(event({ type: "job_started", label: "omnios" }));
    report.apply(event({ type: "step_started", step: 0 }));
    report.apply(event({ type: "log", step: 0, stream: "stdout", text: "one\ntwo hunter2" }));
    report.apply(
      event({ type: "step_finished", step: 0, conclusion: "success", outputs: { version: "1.2" } }),
    );
    report.apply(event({ type: "step_started", step: 1 }));
    report.apply(event({ type: "log", step: 1, stream: "stdout", text: "three" }));
    expect(report.durableSeq).toBe(1);
    expect(report.takeFeedLines().map((b) => b.lines)).toEqual([["one", "two ***"], ["three"]]);
    report.markLogUploaded({ kind: "step", index: 0 });
    expect(report.durableSeq).toBe(4);

    const snapshot = report.snapshot();
    expect(GitHubJobJournalEntrySchema.shape.report.safeParse(snapshot).success).toBe(true);
    expect(snapshot.appliedSeq).toBe(4);
    expect(snapshot.steps[0]).toMatchObject({ status: "completed", logUploaded: true, lineCount: 2 });
    expect(snapshot.steps[1]).toMatchObject({ status: "inProgress", lineCount: 0, feedFrom: 1 });
    expect(JSON.stringify(snapshot)).not.toContain("hunter2");

    // After a restart: events from seq 4 again; the fed line is not fed twice.
    const resumed = JobReport.fromSnapshot(snapshot);
    seq = 4;
    resumed.apply(event({ type: "step_started", step: 1 }));
    resumed.apply(event({ type: "log", step: 1, stream: "stdout", text: "three" }));
    resumed.apply(event({ type: "log", step: 1, stream: "stdout", text: "four" }));
    expect(resumed.takeFeedLines().map((b) => b.lines)).toEqual([["four"]]);
    resumed.apply(event({ type: "step_finished", step: 1, conclusion: "failure" }));
    resumed.apply(event({ type: "job_finished", conclusion: "failure" }));
    const logs = resumed.pendingLogs();
    expect(logs.map((l) => (l.kind === "step" ? `step ${l.index}: ${l.lineCount}` : "job"))).toEqual([
      // "three", "four" and the failed step's `##[error]Process completed with exit code …`.
      "step 1: 3",
      "job",
    ]);
    expect(resumed.completeJobInput({ planId: "p", jobId: "j" })).toMatchObject({
      conclusion: "failed",
      outputs: { version: "1.2" },
    });
  });

  it("keeps the conclusion in the snapshot only when no event must come again", () => {
    const report = newReport();
    report.apply(event({ type: "step_started", step: 0 }));
    report.apply(event({ type: "step_finished", step: 0, conclusion: "success" }));
    report.apply(event({ type: "job_finished", conclusion: "success" }));
    expect(report.snapshot().conclusion).toBeUndefined();
    expect(report.snapshot().steps[0]?.status).toBe("inProgress");
    report.markLogUploaded({ kind: "step", index: 0 });
    report.markLogUploaded({ kind: "step", index: 1 });
    expect(report.snapshot()).toMatchObject({ conclusion: "succeeded", appliedSeq: 3 });
  });
});

describe("the job journal and the job tokens", () => {
  it("journals an entry without tokens and reads it back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "github-journal-"));
    dirs.push(dir);
    const journal = new TaskJournal(join(dir, "jobs"), jobJournalSchema);
    const entry = {
      taskId: "a1b2c3d4-0000-4000-8000-000000000002",
      requestId: REQUEST,
      runner: { agentId: 7, name: "r1", instance: "https://github.com/acme#7" },
      planId: "p-1",
      jobId: "A1B2C3D4-0000-4000-8000-000000000002",
      connectionUrl: "https://run.example/",
      resultsEndpoint: "https://results.example/",
      published: true,
      report: newReport().snapshot(),
    };
    await journal.save(entry);
    const loaded = await journal.load(() => undefined);
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({ taskId: entry.taskId, runner: entry.runner, published: true });
    const problems: string[] = [];
    await journal.save({ ...entry, taskId: "bad", runner: { agentId: -1, name: "", instance: "" } });
    await journal.load((_file, problem) => problems.push(problem));
    expect(problems.join()).toMatch(/runner\.agentId/);
  });

  it("keeps a job's token in its own 0600 file until the job is complete", async () => {
    const dir = await mkdtemp(join(tmpdir(), "github-tokens-"));
    dirs.push(dir);
    const store = new JobTokenStore(join(dir, ".job-tokens"));
    await store.save("job-1", "ghs_secret");
    expect((await stat(join(dir, ".job-tokens", "job-1.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, ".job-tokens"))).mode & 0o777).toBe(0o700);
    expect(await store.load("job-1")).toBe("ghs_secret");
    await store.remove("job-1");
    expect(await store.load("job-1")).toBeUndefined();
    await expect(store.save("../x", "t")).rejects.toThrow(/cannot name a file/);
  });
});

describe("the daemon's mode", () => {
  it("is the registered runner, a JIT config, or a GitHub App", () => {
    expect(chooseDaemonMode({})).toEqual({ kind: "registered" });
    expect(chooseDaemonMode({ jitconfig: " abc= " })).toEqual({ kind: "jit", encoded: "abc=" });
    expect(chooseDaemonMode({ appId: "12", appPrivateKeyFile: "/k.pem", appTarget: "acme/widgets" })).toEqual(
      {
        kind: "app",
        appId: "12",
        privateKeyFile: "/k.pem",
        target: "https://github.com/acme/widgets",
      },
    );
  });

  it("names the flags that are missing or contradict each other", () => {
    expect(() => chooseDaemonMode({ appId: "12" })).toThrow(
      /--app-private-key-file \(GITHUB_RUNNER_APP_PRIVATE_KEY_FILE\) and --app-target/,
    );
    expect(() => chooseDaemonMode({ jitconfig: "x", appId: "1" })).toThrow(/exclude each other/);
    expect(() => chooseDaemonMode({ appId: "twelve", appPrivateKeyFile: "/k", appTarget: "acme" })).toThrow(
      /--app-id/,
    );
    expect(() => appTargetUrl("not a target")).toThrow(/--app-target/);
    expect(appTargetUrl("acme", "https://ghes.example/")).toBe("https://ghes.example/acme");
  });

  it("retries minting JIT runners ever more slowly, up to five minutes", () => {
    expect([1, 2, 3, 5, 10].map(mintRetryDelay)).toEqual([30_000, 60_000, 120_000, 300_000, 300_000]);
  });
});
