import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { JobRecord } from "@solstice/github-test-server";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectFedOnce,
  GitHubRig,
  makeRepository,
  REPO,
  TWELVE_TICKS,
  ticks,
  ticksWorkflow,
} from "./github-support.ts";

// The legacy (GHES) flow under faults, end to end with a real orchestrator on the fast guest, as
// github-runner-faults.vm.test.ts does for the broker flow: an access token expiring mid-job
// (and a 401 on the message poll), a cancellation mid-step, and kill -9s of the service — one
// the moment it deletes the job's message (after journaling it: the job must survive), one
// mid-job. Access tokens live 6 s here, so every job outlives a few of them.

let rig: GitHubRig;
let sha: string;

beforeAll(async () => {
  // A short name: the VMs' QMP socket paths must stay under 108 bytes.
  rig = await GitHubRig.start("lfault", {
    server: { useV2Flow: false, accessTokenLifetimeMs: 6000 },
  });
  const repo = await makeRepository(rig.dir, { "hello.txt": "hello\n" });
  sha = repo.sha;
  rig.server.addRepository(REPO, { gitDir: repo.path, private: true });
  await rig.register();
});

afterAll(async () => {
  await rig?.stop();
});

const TICKS = ticksWorkflow('echo "### legacy summary" >> "$GITHUB_STEP_SUMMARY"; echo second-step');

const TWELVE = TWELVE_TICKS;

/** The step records of a legacy job, in order. */
function stepRecords(jobId: string) {
  return rig.server
    .timelineRecords(jobId)
    .filter((r) => r.parentId === jobId)
    .sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
}

/** Waits until the job's feed has a line ending in `text`; failing, says what the runner and the job logged. */
async function fed(jobId: string, text: string, extraLog = ""): Promise<void> {
  const has = (j: JobRecord) => j.feed.some((l) => l.text.endsWith(text));
  const job = await rig.server
    .waitForJob(jobId, (j) => has(j) || j.status === "completed", 240_000)
    .catch(() => rig.server.job(jobId));
  if (has(job)) return;
  const jobLog = rig.server.recordLog(jobId, jobId) ?? "(no job log)";
  throw new Error(
    `no "${text}" in the job's feed (status ${job.status})\n${jobLog}\n${rig.log.text().slice(-20_000)}\n${extraLog.slice(-20_000)}`,
  );
}

describe("github-runner in the legacy (GHES) flow, under faults", () => {
  it("an access token expiring (and a 401 on the message poll) mid-job: refreshed, the job completes, its summary attached", async () => {
    await rig.startDaemon();
    const grantsBefore = rig.server.accessTokenGrants.length;
    const added = await rig.server.addJob({ repository: REPO, sha, workflowYaml: TICKS });
    await fed(added.id, "tick 3");
    rig.server.failNext("legacy-get-message", { status: 401, body: { message: "token expired" } });
    const job = await rig.completed(added.id);
    expect(job.result, rig.log.text()).toBe("succeeded");
    const steps = stepRecords(job.id);
    expect(ticks(rig.server.recordLog(job.id, steps[0]!.id) ?? "")).toEqual(TWELVE);
    expect(rig.server.recordLog(job.id, steps[1]!.id)).toContain("second-step");
    // The summary attached to its step's record, once.
    expect(rig.server.legacyStepSummary(job.id, steps[1]!.id)).toContain("### legacy summary");
    expect(rig.server.calls.filter((c) => c.endpoint === "legacy-create-attachment")).toHaveLength(1);
    expect(rig.server.calls.some((c) => c.endpoint === "legacy-get-message" && c.injected)).toBe(true);
    const grants = rig.server.accessTokenGrants.length - grantsBefore;
    expect(grants).toBeGreaterThanOrEqual(2);
    expect(grants).toBeLessThan(40);
    expect(rig.log.lines.filter((l) => (l["level"] as number) >= 50)).toEqual([]);
  });

  it("a job cancelled mid-step: the VM is gone and the job completes canceled", async () => {
    const added = await rig.server.addJob({
      repository: REPO,
      sha,
      workflowYaml: `on: push
jobs:
  long:
    runs-on: fast
    steps:
      - run: echo started-long; sleep 300
      - if: always()
        run: echo cleanup
`,
    });
    await fed(added.id, "started-long");
    expect((await rig.vms()).length).toBe(1);
    rig.server.cancelJob(added.id);
    const job = await rig.completed(added.id, 120_000);
    expect(job.result, rig.log.text()).toBe("canceled");
    expect(job.planEvents.map((e) => [e.name, e.result])).toEqual([["JobCompleted", "canceled"]]);
    await eventually("the VM gone", async () => (await rig.vms()).length === 0, 60_000);
    await eventually("the runner idle", () => rig.daemon?.jobs.size === 0, 30_000);
    const cancellation = rig.server.messages().filter((m) => m.messageType === "JobCancellation");
    expect(cancellation).toHaveLength(1);
    await eventually("the cancellation deleted", () => cancellation[0]!.deletedAt !== undefined);
    await rig.daemon?.stop();
    rig.daemon = undefined;
  });

  it("kill -9 as the job message is deleted, and again mid-job: journaled first, resumed, reported once, step logs whole", async () => {
    const jobsDir = join(rig.stateDir, "jobs");
    const journaled = (): string[] =>
      readdirSync(jobsDir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => readFileSync(join(jobsDir, f), "utf8"));
    // The delete never reaches the server's handler: the process dies as it is sent.
    rig.server.dropNext("legacy-delete-message");
    const first = rig.startProcess();
    let atDelete: string[] | undefined;
    const stopWatching = rig.server.onCall((call) => {
      if (call.endpoint !== "legacy-delete-message") return;
      stopWatching();
      atDelete = journaled();
      first.child.kill("SIGKILL");
    });
    const added = await rig.server.addJob({ repository: REPO, sha, workflowYaml: TICKS });
    await first.exited;
    // The job was on disk before its message was deleted.
    expect(atDelete, first.output).toHaveLength(1);
    expect(atDelete![0]).toContain(added.id);
    const jobMessage = () => rig.server.messages().filter((m) => m.messageType === "PipelineAgentJobRequest");
    expect(jobMessage().at(-1)?.deletedAt).toBeUndefined();

    // The second process resumes the job from the journal; the message, delivered again, is only deleted.
    const second = rig.startProcess();
    await fed(added.id, "tick 6", `${first.output}\n----\n${second.output}`);
    await eventually("the job message deleted", () => jobMessage().at(-1)?.deletedAt !== undefined, 30_000);
    expect(jobMessage().at(-1)?.deliveries).toBe(2);
    await second.kill("SIGKILL");
    // While it is down the job goes on in the VM; its events wait in the runner's durable queue.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const restartedAt = Date.now();
    const third = rig.startProcess();
    const job = await rig.completed(added.id);
    const outputs = `${first.output}\n----\n${second.output}\n----\n${third.output}`;
    expect(job.result, outputs).toBe("succeeded");
    expect(second.output).toMatch(/delivered again/);
    expect(second.output).not.toMatch(/job handed to the orchestrators/);
    const steps = stepRecords(job.id);
    expect(ticks(rig.server.recordLog(job.id, steps[0]!.id) ?? "")).toEqual(TWELVE);
    expect(rig.server.recordLog(job.id, steps[1]!.id)).toContain("second-step");
    for (const log of job.logs.values()) expect(log.appends).toBeLessThanOrEqual(1);
    // Live lines: none fed twice across two kills (the journal notes how far before each batch).
    expect(
      expectFedOnce(job.feed, steps[0]!.id, rig.server.recordLog(job.id, steps[0]!.id) ?? ""),
    ).toBeGreaterThanOrEqual(6);
    expect(job.planEvents.filter((e) => e.name === "JobCompleted")).toHaveLength(1);
    expect(job.renewals.some((at) => at.getTime() >= restartedAt)).toBe(true);
    await eventually("the journal empty", () => journaled().length === 0, 30_000);
    await third.kill("SIGTERM");
    expect((await third.exited).code).toBe(0);
    rig.process = undefined;
  });
});
