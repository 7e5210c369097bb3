import { readdir } from "node:fs/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type JobEvent, type JobRequest, newCancelRequest, newJobRequest } from "@solstice/common";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type LocalService, startLocalService } from "./local-service.ts";

// How jobs end when they would otherwise hold the host: the host's time limit per job
// (JOB_TIMEOUT_SECS) and the request's own timeout fail the job and destroy its VM; a cancel of a
// job with thousands of steps left ends it at once with one line, not an event per step; and once
// a job has ended nothing of it stays in the service's memory.

// `gc()` for the memory test (the flag must be set before the function is looked up).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let service: LocalService;
// The requests the runner was handed, watched without being held.
const handed: WeakRef<JobRequest>[] = [];

beforeAll(async () => {
  service = await startLocalService({
    limits: {
      maxSteps: 10_000,
      maxStepScriptBytes: 1024 * 1024,
      maxEnvEntries: 100,
      maxRequestBytes: 16 << 20,
    },
    wrapEngine: (engine) => ({
      runJob: (request, image, options) => {
        handed.push(new WeakRef(request));
        return engine.runJob(request, image, options);
      },
    }),
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
}, 60_000);

function request(fields: Partial<JobRequest>, on: LocalService = service): JobRequest {
  return newJobRequest({
    source: "manual",
    repo_url: "file:///nonexistent",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    workspace_checkout: false,
    owner: on.owner,
    ...fields,
  });
}

function systemLines(events: readonly JobEvent[]): string[] {
  return events.flatMap((e) => (e.type === "log" && e.stream === "system" ? [e.text] : []));
}

async function finishedRow(requestId: string, on: LocalService = service) {
  await eventually(
    `job ${requestId} recorded finished`,
    async () => (await on.store.getJob(requestId))?.state === "finished",
    10_000,
  );
  return (await on.store.getJob(requestId))!;
}

describe("the end of a job", () => {
  test("a job over the host's time limit fails with the reason, and its VM is destroyed", async () => {
    const limited = await startLocalService({ jobTimeoutSecs: 2 });
    try {
      const req = request(
        { steps: [{ name: "Forever", run: "echo started; sleep 600" }, { run: "echo never" }] },
        limited,
      );
      const started = Date.now();
      await limited.queue.publishJob(req);
      const events = await limited.events.finished(req.request_id, 30_000);
      expect(Date.now() - started).toBeLessThan(20_000);
      const reason = "the job exceeded this host's time limit of 2 s per job";
      expect(events.at(-1)).toMatchObject({ type: "job_finished", conclusion: "failure", reason });
      expect(systemLines(events)).toContain(`Job failed: ${reason}; its VM was destroyed`);
      expect(await finishedRow(req.request_id, limited)).toMatchObject({ conclusion: "failure", reason });
      const vms = await limited.store.vmsForJob(req.request_id);
      expect(vms.map((vm) => vm.state)).toEqual(["destroyed"]);
      expect(await readdir(limited.vmDir)).toEqual([]);
    } finally {
      await limited.stop();
    }
  }, 120_000);

  test("the request's own shorter timeout applies the same way", async () => {
    const req = request({ timeout_seconds: 1, steps: [{ run: "echo started; sleep 600" }] });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    expect(events.at(-1)).toMatchObject({
      conclusion: "failure",
      reason: "the job exceeded its timeout of 1 s",
    });
    expect(await finishedRow(req.request_id)).toMatchObject({ conclusion: "failure" });
  });

  test("a cancel with 4,999 steps left sends one line for them, not an event per step", async () => {
    const steps = [
      { name: "Long", run: "echo started; sleep 600" },
      ...Array.from({ length: 4_999 }, () => ({ run: "true" })),
    ];
    const req = request({ steps });
    await service.queue.publishJob(req);
    await service.events.waitFor(
      req.request_id,
      (e) => e.type === "log" && e.step === 0 && e.text.split("\n").includes("started"),
      60_000,
    );
    const cancelled = Date.now();
    await service.queue.publishCancel(
      newCancelRequest({
        request_id: req.request_id,
        reason: "cancelled by the test",
        requested_by: "unit-test",
      }),
    );
    const events = await service.events.finished(req.request_id, 60_000);
    const tookMs = Date.now() - cancelled;
    expect(events.filter((e) => e.type === "step_finished").map((e) => [e.step, e.conclusion])).toEqual([
      [0, "cancelled"],
    ]);
    expect(systemLines(events)).toContain("4999 steps were not run (steps 2 to 5000): cancelled by the test");
    expect(events.length).toBeLessThan(30);
    expect(events.at(-1)).toMatchObject({ conclusion: "cancelled", reason: "cancelled by the test" });
    expect(tookMs).toBeLessThan(10_000);
  }, 120_000);

  test("once jobs have ended, nothing of them stays in memory", async () => {
    // A job with a large request (a few MB), run to its end.
    const big = request({
      steps: Array.from({ length: 50 }, (_, i) => ({ run: `: ${"x".repeat(60_000)} ${i}` })),
    });
    await service.queue.publishJob(big);
    await service.events.finished(big.request_id, 60_000);
    await finishedRow(big.request_id);
    await eventually(
      "no job running or waiting",
      () => service.runner.running === 0 && service.runner.queued === 0,
      10_000,
    );
    expect(handed.length).toBeGreaterThanOrEqual(1);
    // Every request the runner was handed, this one and the earlier tests' (ended by a timeout
    // or a cancel), can be collected.
    // (No deref() before the collections: a target deref'd keeps alive until the task ends.)
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
    }
    expect(handed.map((ref) => ref.deref()?.request_id ?? "collected")).toEqual(
      handed.map(() => "collected"),
    );
  }, 120_000);
});
