import type { JobEvent } from "@solstice/common";
import { describe, expect, it } from "vitest";
import {
  blobUploadPlan,
  checkOk,
  displayLine,
  dotnetTimestamp,
  feedFrame,
  feedSocketUrl,
  JobReport,
  parseAnnotation,
  parseSignedUrl,
  ResultsMethods,
  ResultsServiceError,
  stepLogsMetadataRequest,
  stepLogsUrlRequest,
  stepsUpdateRequest,
  twirpUrl,
} from "../src/index.ts";

const REQUEST = "00000000-0000-4000-8000-000000000001";
let seq = 0;
const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();
function event(e: Record<string, unknown> & { type: JobEvent["type"] }, second = seq): JobEvent {
  return {
    schema_version: "jobevent.v1",
    request_id: REQUEST,
    timestamp: at(second),
    seq: seq++,
    ...e,
  } as JobEvent;
}

function report() {
  seq = 0;
  return new JobReport({
    steps: [
      { externalId: "s-1", number: 1, displayName: "Checkout", contextName: "__actions_checkout" },
      { externalId: "s-2", number: 2, displayName: "Build", contextName: "build" },
      { externalId: "s-3", number: 3, displayName: "Deploy", contextName: "__run" },
    ],
    mask: ["hunter2"],
    maskPatterns: ["tok-[0-9]+"],
    stepIds: [undefined, "build", undefined],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, not a JS template
    outputTemplates: { version: "${{ steps.build.outputs.version }}" },
  });
}

describe("job report", () => {
  it("follows the steps through their events", () => {
    const r = report();
    r.apply(event({ type: "job_started", host: "h1", label: "omnios" }));
    r.apply(event({ type: "step_started", step: 0, name: "Checkout" }));
    r.apply(event({ type: "log", step: 0, stream: "stdout", text: "cloning\ndone" }));
    r.apply(event({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 10, conclusion: "success" }));
    r.apply(event({ type: "step_started", step: 1, name: "Build" }));
    const steps = r.steps();
    expect(steps.map((s) => [s.status, s.conclusion, s.lineCount])).toEqual([
      ["completed", "succeeded", 2],
      ["inProgress", undefined, 0],
      ["pending", undefined, 0],
    ]);
    expect(steps[0]!.startedAt?.toISOString()).toBe(at(1));
    expect(steps[0]!.completedAt?.toISOString()).toBe(at(3));
    expect(r.done).toBe(false);
    // A replayed event changes nothing.
    r.apply({ ...event({ type: "log", step: 0, stream: "stdout", text: "again" }), seq: 2 } as JobEvent);
    expect(r.steps()[0]!.lineCount).toBe(2);
  });

  it("masks values, add-mask values and hint patterns, and writes .NET timestamps", () => {
    const r = report();
    r.apply(event({ type: "step_started", step: 0, name: "x" }, 0));
    r.apply(
      event(
        { type: "log", step: 0, stream: "stdout", text: "pw hunter2 tok-123\n::add-mask::later\nlater" },
        0,
      ),
    );
    r.apply(
      event({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 1, conclusion: "success" }, 0),
    );
    const log = r.pendingLogs()[0]!;
    expect(log).toMatchObject({ kind: "step", externalId: "s-1", lineCount: 3 });
    expect(log.content).toBe(
      [
        "2025-01-01T00:00:00.0000000Z pw *** ***",
        "2025-01-01T00:00:00.0000000Z ::add-mask::***",
        "2025-01-01T00:00:00.0000000Z ***",
        "",
      ].join("\n"),
    );
    expect(dotnetTimestamp(new Date(Date.UTC(2025, 0, 1, 0, 0, 0, 120)))).toBe(
      "2025-01-01T00:00:00.1200000Z",
    );
  });

  it("parses annotations and shows commands in GitHub's form", () => {
    const r = report();
    r.apply(event({ type: "step_started", step: 1, name: "Build" }));
    r.apply(
      event({
        type: "log",
        step: 1,
        stream: "stdout",
        text: "::error file=src/a.c,line=10,endLine=12,col=3,title=Bad%2C bad::oops%0Asecond\n::warning::careful\n::group::Deps\n::endgroup::",
      }),
    );
    expect(r.annotations()).toEqual([
      {
        level: "failure",
        message: "oops\nsecond",
        title: "Bad, bad",
        path: "src/a.c",
        startLine: 10,
        endLine: 12,
        startColumn: 3,
        endColumn: 3,
        stepNumber: 2,
      },
      { level: "warning", message: "careful", stepNumber: 2 },
    ]);
    expect(parseAnnotation("::notice::hi")).toEqual({ level: "notice", message: "hi" });
    expect(parseAnnotation("::debug::x")).toBeUndefined();
    expect(displayLine("::group::Deps")).toBe("##[group]Deps");
    expect(displayLine("::error::a%25b")).toBe("##[error]a%b");
    expect(displayLine("plain")).toBe("plain");
  });

  it("feeds new lines once, numbered from 1 per step", () => {
    const r = report();
    r.apply(event({ type: "step_started", step: 1, name: "Build" }));
    r.apply(event({ type: "log", step: 1, stream: "stdout", text: "a\nb" }));
    expect(r.takeFeedLines()).toEqual([{ stepExternalId: "s-2", startLine: 1, lines: ["a", "b"] }]);
    r.apply(event({ type: "log", step: 1, stream: "stderr", text: "c" }));
    expect(r.takeFeedLines()).toEqual([{ stepExternalId: "s-2", startLine: 3, lines: ["c"] }]);
    expect(r.takeFeedLines()).toEqual([]);
  });

  it("finishes: skipped and failed steps, outputs, step results, logs, steps updates", () => {
    const r = report();
    r.apply(event({ type: "step_started", step: 0, name: "Checkout" }));
    r.apply(event({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 1, conclusion: "success" }));
    r.apply(event({ type: "step_started", step: 1, name: "Build" }));
    r.apply(
      event({
        type: "step_finished",
        step: 1,
        exit_code: 1,
        duration_ms: 1,
        conclusion: "failure",
        outputs: { version: "1.2" },
      }),
    );
    expect(r.takeStepsUpdate().changeOrder).toBe(1);
    expect(r.stepsChanged).toBe(false);
    r.apply(event({ type: "job_finished", conclusion: "failure", reason: "step 2 (Build) exited with 1" }));
    expect(r.stepsChanged).toBe(true);
    expect(r.conclusion).toBe("failed");
    expect(r.steps().map((s) => s.conclusion)).toEqual(["succeeded", "failed", "skipped"]);
    expect(r.outputs()).toEqual({ version: "1.2" });
    const input = r.completeJobInput({ planId: "p", jobId: "j", billingOwnerId: "b" });
    expect(input).toMatchObject({
      planId: "p",
      jobId: "j",
      conclusion: "failed",
      outputs: { version: "1.2" },
      billingOwnerId: "b",
    });
    expect(input.stepResults![1]).toMatchObject({
      external_id: "s-2",
      number: 2,
      name: "Build",
      status: "completed",
      conclusion: "failed",
      completed_log_lines: 1,
    });
    // As the reference runner: the failed script step's log ends with its exit code, annotated.
    expect(input.annotations).toEqual([
      { level: "failure", message: "Process completed with exit code 1.", stepNumber: 2 },
    ]);
    const pending = r.pendingLogs();
    expect(pending[1]?.content).toMatch(/Z ##\[error\]Process completed with exit code 1\.\n$/);
    expect(pending.map((p) => p.kind)).toEqual(["step", "step", "step", "job"]);
    const job = pending[3]!;
    expect(job.content).toContain("##[error]Solstice CI: step 2 (Build) exited with 1");
    for (const [index] of pending.slice(0, 3).entries()) r.markLogUploaded({ kind: "step", index });
    r.markLogUploaded({ kind: "job" });
    expect(r.pendingLogs()).toEqual([]);
    expect(r.logsUploaded).toBe(true);
    expect(r.takeStepsUpdate().changeOrder).toBe(2);
  });

  it("carries a step's summary with its log, until the log is uploaded", () => {
    const r = report();
    r.apply(event({ type: "step_started", step: 0, name: "Checkout" }));
    r.apply(
      event({
        type: "step_finished",
        step: 0,
        exit_code: 0,
        duration_ms: 1,
        conclusion: "success",
        summary: "### done\n",
      }),
    );
    const [log] = r.pendingLogs();
    expect(log).toMatchObject({ kind: "step", index: 0, summary: "### done\n" });
    r.markLogUploaded({ kind: "step", index: 0 });
    expect(r.pendingLogs()).toEqual([]);
  });

  it("marks running steps canceled when the job is", () => {
    const r = report();
    r.apply(event({ type: "step_started", step: 0, name: "Checkout" }));
    r.apply(event({ type: "job_finished", conclusion: "cancelled" }));
    expect(r.conclusion).toBe("canceled");
    expect(r.steps().map((s) => s.conclusion)).toEqual(["canceled", "skipped", "skipped"]);
  });
});

describe("results service bodies", () => {
  const ids = { planId: "p-1", jobId: "j-2" };

  it("builds Twirp URLs and snake_case requests", () => {
    expect(twirpUrl("https://results/", ResultsMethods.GetStepLogsSignedBlobURL)).toBe(
      "https://results/twirp/results.services.receiver.Receiver/GetStepLogsSignedBlobURL",
    );
    expect(twirpUrl("https://results", ResultsMethods.WorkflowStepsUpdate)).toBe(
      "https://results/twirp/github.actions.results.api.v1.WorkflowStepUpdateService/WorkflowStepsUpdate",
    );
    expect(stepLogsUrlRequest(ids, "s-1")).toEqual({
      workflow_job_run_backend_id: "j-2",
      workflow_run_backend_id: "p-1",
      step_backend_id: "s-1",
    });
    expect(stepLogsMetadataRequest(ids, "s-1", 3, new Date(0))).toEqual({
      workflow_run_backend_id: "p-1",
      workflow_job_run_backend_id: "j-2",
      step_backend_id: "s-1",
      uploaded_at: "1970-01-01T00:00:00.000Z",
      line_count: 3,
    });
  });

  it("sends steps with the results API's enum numbers", () => {
    const r = report();
    r.apply(event({ type: "step_started", step: 0, name: "Checkout" }, 1));
    r.apply(
      event({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 1, conclusion: "success" }, 2),
    );
    r.apply(event({ type: "step_started", step: 1, name: "Build" }, 3));
    const body = stepsUpdateRequest(ids, 4, r.steps());
    expect(body).toMatchObject({
      change_order: 4,
      workflow_job_run_backend_id: "j-2",
      workflow_run_backend_id: "p-1",
    });
    expect(
      (body["steps"] as Record<string, unknown>[]).map((s) => [
        s["external_id"],
        s["status"],
        s["conclusion"],
      ]),
    ).toEqual([
      ["s-1", 6, 2],
      ["s-2", 3, 0],
      ["s-3", 5, 0],
    ]);
  });

  it("requires ok: true and a logs_url", () => {
    expect(() => checkOk(ResultsMethods.CreateStepLogsMetadata, '{"ok":true}')).not.toThrow();
    expect(() => checkOk(ResultsMethods.CreateStepLogsMetadata, '{"ok":false}')).toThrow(ResultsServiceError);
    expect(() => checkOk(ResultsMethods.CreateStepLogsMetadata, "{}")).toThrow(ResultsServiceError);
    expect(
      parseSignedUrl(ResultsMethods.GetJobLogsSignedBlobURL, '{"logs_url":"https://b/x?sig=1"}').logs_url,
    ).toBe("https://b/x?sig=1");
    expect(() => parseSignedUrl(ResultsMethods.GetJobLogsSignedBlobURL, '{"ok":true}')).toThrow(
      ResultsServiceError,
    );
  });

  it("uploads a small log as one block blob and a large one as a sealed append blob", () => {
    const small = blobUploadPlan("https://b/x?sig=1", Buffer.from("log\n"));
    expect(small).toHaveLength(1);
    expect(small[0]!.headers["x-ms-blob-type"]).toBe("BlockBlob");
    const large = blobUploadPlan("https://b/x?sig=1", Buffer.alloc(10, 97), { blockSize: 4 });
    expect(large.map((r) => [r.url, r.body.length, r.headers["x-ms-blob-type"]])).toEqual([
      ["https://b/x?sig=1", 0, "AppendBlob"],
      ["https://b/x?sig=1&comp=appendblock", 4, undefined],
      ["https://b/x?sig=1&comp=appendblock", 4, undefined],
      ["https://b/x?sig=1&comp=appendblock", 2, undefined],
      ["https://b/x?sig=1&comp=seal", 0, undefined],
    ]);
  });

  it("frames live lines as the reference runner does", () => {
    expect(JSON.parse(feedFrame({ stepExternalId: "s-1", startLine: 3, lines: ["a", "b"] }))).toEqual({
      count: 2,
      value: ["a", "b"],
      stepId: "s-1",
      startLine: 3,
    });
    expect(feedSocketUrl("https://feed/x")).toBe("wss://feed/x");
    expect(feedSocketUrl("http://feed/x")).toBe("ws://feed/x");
  });
});
