import { describe, expect, it } from "vitest";
import {
  ActionsServiceError,
  acquireFailure,
  acquireJobBody,
  completeJobBody,
  isFinalCompleteError,
  JobLockRenewer,
  parseLockedUntil,
  runServiceError,
} from "../src/index.ts";

const serviceBody = (statusCode: number) =>
  JSON.stringify({ source: "actions-run-service", statusCode, errorKind: "x", errorMessage: "m" });

describe("acquirejob", () => {
  it("sends the message id, the OS and the billing owner", () => {
    expect(acquireJobBody("r-1", "Linux", "b-1")).toEqual({
      jobMessageId: "r-1",
      runnerOS: "Linux",
      billingOwnerId: "b-1",
    });
    expect(acquireJobBody("r-1", "Linux")).toEqual({ jobMessageId: "r-1", runnerOS: "Linux" });
  });

  it("skips 404, 409 and 422 from the body's statusCode, not from the HTTP status", () => {
    for (const code of [404, 409, 422]) {
      expect(acquireFailure(runServiceError("acquirejob", "u", 400, serviceBody(code)))).toBe("skip");
    }
    expect(acquireFailure(runServiceError("acquirejob", "u", 404, "not json"))).toBe("retry-later");
    expect(acquireFailure(runServiceError("acquirejob", "u", 500, serviceBody(500)))).toBe("retry-later");
    expect(acquireFailure(new Error("network"))).toBe("retry-later");
  });
});

describe("completejob", () => {
  it("sends camelCase conclusions and VariableValue outputs", () => {
    expect(
      completeJobBody({
        planId: "p",
        jobId: "j",
        conclusion: "succeeded",
        outputs: { out: "v" },
        stepResults: [],
        annotations: [],
      }),
    ).toEqual({
      planId: "p",
      jobId: "j",
      conclusion: "succeeded",
      outputs: { out: { value: "v", isSecret: false } },
    });
  });

  it("stops retrying on 401 and 404", () => {
    expect(isFinalCompleteError(new ActionsServiceError("completejob", "u", 401, ""))).toBe(true);
    expect(isFinalCompleteError(runServiceError("completejob", "u", 400, serviceBody(404)))).toBe(true);
    expect(isFinalCompleteError(runServiceError("completejob", "u", 500, ""))).toBe(false);
  });

  it("reads lockedUntil as UTC", () => {
    expect(parseLockedUntil("2025-01-01T00:10:00.1234567")).toBe(Date.UTC(2025, 0, 1, 0, 10, 0, 123));
    expect(parseLockedUntil("2025-01-01T00:10:00Z")).toBe(Date.UTC(2025, 0, 1, 0, 10, 0));
  });
});

/** A renewer driven by a script of answers and a fake clock. */
function scripted(answers: readonly (number | Error)[], options: { now?: number } = {}) {
  const sleeps: number[] = [];
  const calls: number[] = [];
  let clock = options.now ?? 0;
  let index = 0;
  const renewer: JobLockRenewer = new JobLockRenewer({
    renew: async () => {
      calls.push(clock);
      const answer = answers[index++];
      if (answer === undefined) {
        void renewer.stop();
        throw new Error("script ended");
      }
      if (answer instanceof Error) throw answer;
      return answer;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    random: () => 0.5,
  });
  return { renewer, sleeps, calls };
}

const notFound = () => runServiceError("renewjob", "u", 400, serviceBody(404));

describe("lock renewal", () => {
  it("renews first, then every 60 s", async () => {
    const { renewer, sleeps } = scripted([600_000, 660_000, 720_000]);
    const end = renewer.start();
    expect(await renewer.firstRenewal).toBe(true);
    expect(await end).toBe("stopped");
    expect(sleeps.slice(0, 3)).toEqual([60_000, 60_000, 60_000]);
    expect(renewer.lockedUntil).toBe(720_000);
  });

  it("retries a failing first renewal with 1–10 s pauses, five times, then gives up", async () => {
    const { renewer, sleeps, calls } = scripted(Array.from({ length: 10 }, () => new Error("503")));
    expect(await renewer.start()).toBe("first-renewal-failed");
    expect(await renewer.firstRenewal).toBe(false);
    expect(calls).toHaveLength(6);
    expect(sleeps).toEqual([5500, 5500, 5500, 5500, 5500]);
  });

  it("starts the job after a retried first renewal", async () => {
    const { renewer } = scripted([new Error("503"), 600_000]);
    const end = renewer.start();
    expect(await renewer.firstRenewal).toBe(true);
    await end;
  });

  it("stops at a 404, before or after the first renewal", async () => {
    const first = scripted([notFound()]);
    expect(await first.renewer.start()).toBe("job-not-found");
    expect(await first.renewer.firstRenewal).toBe(false);
    const later = scripted([600_000, notFound(), 1]);
    expect(await later.renewer.start()).toBe("job-not-found");
    expect(later.calls).toHaveLength(2);
  });

  it("retries later failures until the lock plus five minutes has passed", async () => {
    const { renewer, sleeps } = scripted([120_000, ...Array.from({ length: 100 }, () => new Error("503"))]);
    expect(await renewer.start()).toBe("lock-expired");
    // 60 s, then 5–15 s pauses (10 s here) until 120 s + 5 min, 15–30 s after five errors.
    expect(sleeps[0]).toBe(60_000);
    expect(sleeps.slice(1, 6)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);
    expect(sleeps[6]).toBe(22_500);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(420_000);
  });
});
