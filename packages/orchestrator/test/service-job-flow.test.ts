import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type JobEvent,
  JobEventSchema,
  type JobRequest,
  newCancelRequest,
  newJobRequest,
} from "@solstice/common";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LOCAL_LABEL, type LocalService, REMOTE_LABEL, startLocalService } from "./local-service.ts";

// The service's job flow (JobIntake → scheduler → JobRunner → VmEngine, CancelListener) on the
// in-process queue, PGlite and the `local` hypervisor: what a job's owner receives and what the
// store records for the cases the VM tests cannot reach cheaply — cancels before and during a
// job, a redelivered request, an unknown label, an image that cannot be fetched, a step timeout,
// continue-on-error, always() after a failure, and step outputs.

let service: LocalService;

// PGlite takes seconds to start and migrate, more on a busy machine.
beforeAll(async () => {
  service = await startLocalService();
}, 120_000);

afterAll(async () => {
  await service?.stop();
}, 60_000);

function request(fields: Partial<JobRequest>): JobRequest {
  return newJobRequest({
    source: "manual",
    repo_url: "file:///nonexistent",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    workspace_checkout: false,
    owner: service.owner,
    ...fields,
  });
}

/** Every event is valid, `seq` runs 0..n-1 with nothing missing or twice, job_finished last. */
function expectWellFormed(requestId: string, events: readonly JobEvent[]): void {
  for (const event of events) JobEventSchema.parse(event);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(events.filter((e) => e.type === "job_finished")).toHaveLength(1);
  expect(events.at(-1)?.type).toBe("job_finished");
  expect(service.events.problems(requestId)).toEqual({ missing: [], duplicates: [] });
}

function lines(events: readonly JobEvent[], step: number | null): string[] {
  return events.flatMap((e) =>
    e.type === "log" && e.step === step ? e.text.split("\n").map((line) => `${e.stream}: ${line}`) : [],
  );
}

function finished(events: readonly JobEvent[]): { step: number; conclusion: string; exit: number | null }[] {
  return events.flatMap((e) =>
    e.type === "step_finished" ? [{ step: e.step, conclusion: e.conclusion, exit: e.exit_code }] : [],
  );
}

/** The job's row once it is finished (the store is written after the events are published). */
async function finishedRow(requestId: string) {
  await eventually(
    `job ${requestId} recorded finished`,
    async () => (await service.store.getJob(requestId))?.state === "finished",
    10_000,
  );
  return (await service.store.getJob(requestId))!;
}

describe("the job flow on the local hypervisor", () => {
  test("a published job runs: outputs in step_finished and in later steps, events in order, row and VM recorded", async () => {
    const req = request({
      runs_on: "fast",
      steps: [
        { id: "v", name: "Version", run: 'echo "version=1.2" >> "$GITHUB_OUTPUT"\necho "version written"' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an Actions expression, resolved by the engine
        { name: "Use", run: "echo using ${{ steps.v.outputs.version }}", runtime_expressions: ["run"] },
        { name: "Condition", if: "steps.v.outputs.version == '1.2'", run: "echo matched" },
      ],
    });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    expectWellFormed(req.request_id, events);
    expect(events[0]).toMatchObject({ type: "job_started", host: service.hostId, label: LOCAL_LABEL });
    expect(events.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    const stepEnds = events.filter((e) => e.type === "step_finished");
    expect(stepEnds[0]).toMatchObject({ conclusion: "success", outputs: { version: "1.2" } });
    expect(lines(events, 1)).toEqual(["stdout: using 1.2"]);
    expect(lines(events, 2)).toEqual(["stdout: matched"]);
    expect(lines(events, null)).toContain("system: local-guest: up");

    const row = await finishedRow(req.request_id);
    expect(row).toMatchObject({
      conclusion: "success",
      label: LOCAL_LABEL,
      hostId: service.hostId,
      attempt: 1,
    });
    expect(row.stepsStarted).toBe(true);
    const stored = await service.store.getLogs(req.request_id);
    expect(stored.flatMap((l) => l.text.split("\n"))).toContain("using 1.2");
    const vms = await service.store.vmsForJob(req.request_id);
    expect(vms.map((vm) => [vm.vmName, vm.state])).toEqual([[`job-${req.request_id}`, "destroyed"]]);
    expect(await readdir(service.vmDir)).toEqual([]);
  });

  test("a step timeout fails the job; continue-on-error goes on; always() and failure() steps run after the failure", async () => {
    const req = request({
      steps: [
        { id: "lint", name: "Lint", run: "echo lint failed; exit 1", continue_on_error: true },
        { name: "Slow", run: "echo going to sleep; sleep 30; echo woke up", timeout_seconds: 1 },
        { name: "Skipped", run: "echo skipped" },
        { name: "On failure", if: "failure()", run: "echo the job failed" },
        { name: "Always", if: "always()", run: "echo cleanup" },
        {
          name: "Lint conclusion",
          if: "always() && steps.lint.conclusion == 'success'",
          run: "echo lint ok",
        },
      ],
    });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    expectWellFormed(req.request_id, events);
    expect(finished(events)).toEqual([
      { step: 0, conclusion: "failure", exit: 1 },
      { step: 1, conclusion: "failure", exit: null },
      { step: 2, conclusion: "skipped", exit: null },
      { step: 3, conclusion: "success", exit: 0 },
      { step: 4, conclusion: "success", exit: 0 },
      { step: 5, conclusion: "success", exit: 0 },
    ]);
    expect(lines(events, 0)).toContain(
      "system: the step failed (exited with 1); continue_on_error lets the job go on",
    );
    expect(lines(events, 1).at(-1)).toBe("system: timed out after 1 s and was killed");
    expect(lines(events, 1)).not.toContain("stdout: woke up");
    expect(lines(events, 3)).toEqual(["stdout: the job failed"]);
    expect(lines(events, 4)).toEqual(["stdout: cleanup"]);
    expect(events.at(-1)).toMatchObject({
      type: "job_finished",
      conclusion: "failure",
      reason: 'step "Slow" timed out after 1 s and was killed',
    });
    expect(await finishedRow(req.request_id)).toMatchObject({
      conclusion: "failure",
      reason: 'step "Slow" timed out after 1 s and was killed',
    });
  });

  test("a cancel that arrives before its job: the job is reported cancelled and never runs", async () => {
    const req = request({ steps: [{ name: "Never", run: "echo never" }] });
    await service.queue.publishCancel(
      newCancelRequest({ request_id: req.request_id, reason: "superseded", requested_by: "unit-test" }),
    );
    // The cancel listener has seen it once it remembers it (the job is unknown everywhere).
    await eventually("the early cancel remembered", () => hasEarlyCancel(req.request_id), 10_000);
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    expectWellFormed(req.request_id, events);
    expect(events.map((e) => e.type)).toEqual(["log", "job_finished"]);
    expect(lines(events, null)).toEqual(["system: Job cancelled before it started: superseded"]);
    expect(events.at(-1)).toMatchObject({ conclusion: "cancelled", reason: "superseded" });
    expect(await finishedRow(req.request_id)).toMatchObject({
      conclusion: "cancelled",
      reason: "superseded",
    });
    expect(await service.store.vmsForJob(req.request_id)).toEqual([]);
  });

  test("a cancel during a step kills it, runs nothing after it (not even always()), and destroys the VM", async () => {
    const req = request({
      steps: [
        { name: "Long", run: "echo started\nsleep 600" },
        { name: "After", if: "always()", run: "echo after" },
      ],
    });
    await service.queue.publishJob(req);
    await service.events.waitFor(
      req.request_id,
      (e) => e.type === "log" && e.step === 0 && e.text.split("\n").includes("started"),
      30_000,
    );
    await service.queue.publishCancel(
      newCancelRequest({
        request_id: req.request_id,
        reason: "cancelled by the user",
        requested_by: "unit-test",
      }),
    );
    const events = await service.events.finished(req.request_id, 30_000);
    expectWellFormed(req.request_id, events);
    // The steps after the cancel get one line between them, not an event each.
    expect(finished(events).map((s) => [s.step, s.conclusion])).toEqual([[0, "cancelled"]]);
    expect(lines(events, null)).toContain("system: 1 step was not run (step 2): cancelled by the user");
    expect(lines(events, 0)).toContain("system: cancelled: the step was killed");
    expect(events.at(-1)).toMatchObject({ conclusion: "cancelled", reason: "cancelled by the user" });
    expect(await finishedRow(req.request_id)).toMatchObject({
      conclusion: "cancelled",
      reason: "cancelled by the user",
    });
    const vms = await service.store.vmsForJob(req.request_id);
    expect(vms.map((vm) => vm.state)).toEqual(["destroyed"]);
  });

  test("a redelivered request of a running job is not run again; the job ends once", async () => {
    const gate = join(service.dir, `go-${Date.now()}`);
    const req = request({
      steps: [
        { name: "Wait", run: `echo waiting\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done\necho done` },
      ],
    });
    await service.queue.publishJob(req);
    await service.events.waitFor(
      req.request_id,
      (e) => e.type === "log" && e.step === 0 && e.text.split("\n").includes("waiting"),
      30_000,
    );
    expect((await service.store.getJob(req.request_id))?.state).toBe("running");
    // What the queue does after a connection loss: the same request again, marked redelivered.
    await service.intake.handle(req, { redelivered: true, attempt: 2 });
    expect(service.runner.runningIds()).toEqual([req.request_id]);
    expect(service.runner.queued).toBe(0);
    await writeFile(gate, "");
    const events = await service.events.finished(req.request_id, 30_000);
    expectWellFormed(req.request_id, events);
    expect(events.filter((e) => e.type === "job_started")).toHaveLength(1);
    expect(lines(events, 0)).toEqual(["stdout: waiting", "stdout: done"]);
    const row = await finishedRow(req.request_id);
    expect(row).toMatchObject({ conclusion: "success", attempt: 1 });
    expect(await service.store.vmsForJob(req.request_id)).toHaveLength(1);
    // And once finished, a late redelivery does nothing either.
    await service.intake.handle(req, { redelivered: true, attempt: 3 });
    expect(service.runner.running + service.runner.queued).toBe(0);
    expect((await service.store.getJob(req.request_id))?.finishedAt).toEqual(row.finishedAt);
  });

  test("a label no host serves: the owner is told at once and the request is dead-lettered with the reason", async () => {
    const req = request({ runs_on: "plan9", steps: [{ run: "echo never" }] });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    expectWellFormed(req.request_id, events);
    const reason = "no orchestrator serves label plan9";
    expect(lines(events, null)).toEqual([`system: Solstice CI refused this job: ${reason}`]);
    expect(events.at(-1)).toMatchObject({
      type: "job_finished",
      conclusion: "failure",
      reason: `job request refused: ${reason}`,
    });
    expect(events.some((e) => e.type === "job_started")).toBe(false);
    await eventually("the request is dead-lettered", async () =>
      (await service.queue.deadLetters.list()).some((l) => l.messageId === req.request_id),
    );
    const letter = (await service.queue.deadLetters.list()).find((l) => l.messageId === req.request_id);
    expect(letter).toMatchObject({ code: "JOB_LABEL_UNSERVED", reason });
    expect(await service.store.getJob(req.request_id)).toBeUndefined();
  });

  test("an image that cannot be fetched fails the job before any VM, saying why", async () => {
    const req = request({ runs_on: REMOTE_LABEL, steps: [{ run: "echo never" }] });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    expectWellFormed(req.request_id, events);
    const why = "cannot fetch https://images.invalid/remote.img: no such server";
    expect(lines(events, null)).toEqual([
      `system: Fetching image ${REMOTE_LABEL} from https://images.invalid/remote.img`,
      `system: ${why}`,
    ]);
    expect(events.at(-1)).toMatchObject({ type: "job_finished", conclusion: "failure", reason: why });
    expect(await finishedRow(req.request_id)).toMatchObject({
      conclusion: "failure",
      reason: why,
      label: REMOTE_LABEL,
    });
    expect(await service.store.vmsForJob(req.request_id)).toEqual([]);
  });
});

/** Whether the runner holds an early cancel for `requestId` (without consuming it). */
function hasEarlyCancel(requestId: string): boolean {
  const reason = service.runner.takeEarlyCancel(requestId);
  if (reason === undefined) return false;
  service.runner.rememberCancel(requestId, reason);
  return true;
}
