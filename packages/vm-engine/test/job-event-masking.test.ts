import type { JobEvent } from "@solstice/common";
import { describe, expect, it } from "vitest";
import { JobEventEmitter } from "../src/exec/job-events.ts";

// The engine masks a job's secrets (JobRequest `mask`) in every event it emits, with common's
// LogMasker: each line of a multi-line secret, longer values first, and values a step registers
// with `::add-mask::` from then on; and credentials in URLs, wherever they appear.

async function emitted(
  mask: readonly string[],
  emit: (events: JobEventEmitter) => void,
): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  const events = new JobEventEmitter("7f1c8a43-52a4-4e0c-9b52-0d6f5c0a1b2c", (e) => void out.push(e), {
    mask,
  });
  emit(events);
  await events.flush();
  return out;
}

function texts(events: JobEvent[]): string[] {
  return events.flatMap((e) => (e.type === "log" ? [e.text] : []));
}

describe("job event masking", () => {
  it("replaces every occurrence of every secret, a longer one whole", async () => {
    const out = await emitted(["s3cret", "tok", "xabcx", "abc"], (e) => {
      e.log(0, "stdout", "a s3cret and tok and s3cret");
      e.log(0, "stdout", "[xabcx]");
    });
    expect(texts(out)).toEqual(["a *** and *** and ***", "[***]"]);
  });

  it("masks each line of a multi-line secret, and ignores blank values", async () => {
    const out = await emitted(["-----BEGIN KEY-----\nAAAA\r\n-----END KEY-----", "", "  "], (e) => {
      e.log(null, "system", "AAAA");
      e.log(0, "stderr", "x -----END KEY----- y");
      e.log(0, "stdout", "nothing to hide");
    });
    expect(texts(out)).toEqual(["***", "x *** y", "nothing to hide"]);
  });

  it("honours ::add-mask:: in a step's output from then on, and masks step outputs", async () => {
    const out = await emitted([], (e) => {
      e.log(0, "stdout", "before hunter2");
      e.log(0, "stdout", "::add-mask::hunter2");
      e.log(1, "stderr", "after hunter2");
      e.log(null, "system", "::add-mask::not-a-step-command");
      e.stepFinished(1, {
        exitCode: 0,
        durationMs: 1,
        conclusion: "success",
        outputs: { pw: "hunter2", v: "1" },
      });
    });
    expect(texts(out)).toEqual([
      "before hunter2",
      "::add-mask::***",
      "after ***",
      "::add-mask::not-a-step-command",
    ]);
    expect(out.at(-1)).toMatchObject({ type: "step_finished", outputs: { pw: "***", v: "1" } });
  });

  it("replaces credentials in URLs in every text, a step's output included", async () => {
    const out = await emitted([], (e) => {
      e.system("checkout of https://oauth2:tok-123@forge.example/me/app failed");
      e.stepStarted(0, "push to https://tok-456@forge.example/me/app");
      e.logLines(0, "stdout", ["remote: https://u:tok-789@forge.example/me/app"]);
      e.jobFinished("failure", "clone https://oauth2:tok-123@forge.example/me/app failed");
    });
    expect(JSON.stringify(out)).not.toMatch(/tok-\d/);
    expect(texts(out)).toEqual([
      "checkout of https://***@forge.example/me/app failed",
      "remote: https://***@forge.example/me/app",
    ]);
    expect(out[1]).toMatchObject({ type: "step_started", name: "push to https://***@forge.example/me/app" });
    expect(out.at(-1)).toMatchObject({ reason: "clone https://***@forge.example/me/app failed" });
  });
});
