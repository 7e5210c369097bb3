import { PLAIN_STYLE } from "@solstice/cli-kit";
import type { JobEvent } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { formatDuration, JobLogPrinter, stepTitle } from "../src/run/job-log-printer.ts";

const id = "0b6f8a52-3c1d-4e7f-9a2b-5c6d7e8f9a0b";
let seq = 0;
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();
function event(fields: Record<string, unknown>, second: number): JobEvent {
  return {
    schema_version: "jobevent.v1",
    request_id: id,
    seq: seq++,
    timestamp: at(second),
    ...fields,
  } as JobEvent;
}

describe("JobLogPrinter", () => {
  test("a header per step, output, each step's result and duration, the job's end", () => {
    const printer = new JobLogPrinter({
      steps: [
        { name: "Build", run: "make" },
        { run: "make check\nmore" },
        { name: "Deploy", run: "./deploy" },
      ],
      style: PLAIN_STYLE,
    });
    const events = [
      event({ type: "job_started", host: "h1", label: "fast" }, 0),
      event({ type: "log", step: null, stream: "system", text: "VM started" }, 1),
      event({ type: "step_started", step: 0, name: "Build" }, 2),
      event({ type: "log", step: 0, stream: "stdout", text: "cc -o app" }, 2),
      event({ type: "step_finished", step: 0, exit_code: 0, duration_ms: 1500, conclusion: "success" }, 3),
      event({ type: "step_started", step: 1, name: "make check" }, 3),
      event({ type: "log", step: 1, stream: "stderr", text: "FAIL: 1" }, 4),
      event({ type: "step_finished", step: 1, exit_code: 2, duration_ms: 65_000, conclusion: "failure" }, 9),
      event({ type: "step_finished", step: 2, exit_code: null, duration_ms: 0, conclusion: "skipped" }, 9),
      event({ type: "job_finished", conclusion: "failure", reason: 'step "make check" exited with 2' }, 10),
    ];
    expect(events.flatMap((e) => printer.lines(e)).join("\n")).toMatchInlineSnapshot(`
      "Job started on h1 (image fast)
      VM started

      ==> Step 1/3: Build
      cc -o app
      <== Step 1/3: Build: success (exit 0, 1.5 s)

      ==> Step 2/3: make check
      FAIL: 1
      <== Step 2/3: make check: failure (exit 2, 1 min 5 s)

      --- Step 3/3: Deploy: skipped

      Job failed after 10.0 s: step "make check" exited with 2"
    `);
  });

  test("names and durations", () => {
    expect(stepTitle({ run: "\n  echo hi\nmore" }, 0)).toBe("echo hi");
    expect(stepTitle(undefined, 4)).toBe("step 5");
    expect(formatDuration(1234)).toBe("1.2 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
  });
});
