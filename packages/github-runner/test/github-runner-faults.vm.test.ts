import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectFedOnce,
  expectRemovedWhileIdle,
  GitHubRig,
  makeRepository,
  REPO,
  TWELVE_TICKS,
  ticks,
  ticksWorkflow,
} from "./github-support.ts";

// The GitHub runner under faults, end to end with a real orchestrator on the fast guest: its
// OAuth access token expiring mid-job (and one refused), a kill -9 of the service mid-job, an
// outage of GitHub's broker, and the runner removed on GitHub while it is idle. The runner's
// access tokens live 6 s here, so every job outlives a few of them.

let rig: GitHubRig;
let sha: string;

beforeAll(async () => {
  rig = await GitHubRig.start("faults", { server: { accessTokenLifetimeMs: 6000 } });
  const repo = await makeRepository(rig.dir, { "hello.txt": "hello\n" });
  sha = repo.sha;
  rig.server.addRepository(REPO, { gitDir: repo.path, private: true });
  await rig.register();
});

afterAll(async () => {
  await rig?.stop();
});

const TICKS = ticksWorkflow();

const TWELVE = TWELVE_TICKS;

describe("github-runner under faults", () => {
  it("an access token expiring (and one refused with 401) mid-job: refreshed, the job completes", async () => {
    await rig.startDaemon();
    const grantsBefore = rig.server.accessTokenGrants.length;
    const added = await rig.server.addJob({ repository: REPO, sha, workflowYaml: TICKS });
    await rig.server.waitForJob(added.id, (j) => j.feed.some((l) => l.text.endsWith("tick 3")), 240_000);
    rig.server.failNext("get-message", { status: 401, body: { message: "token expired" } });
    const job = await rig.completed(added.id);
    expect(job.completion?.conclusion, rig.log.text()).toBe("succeeded");
    expect(ticks(rig.server.stepLog(job.id, job.steps[0]!.externalId) ?? "")).toEqual(TWELVE);
    // New tokens were minted during the job (a fresh client assertion each), not in a loop.
    const grants = rig.server.accessTokenGrants.length - grantsBefore;
    expect(grants).toBeGreaterThanOrEqual(2);
    expect(grants).toBeLessThan(40);
    expect(rig.log.lines.filter((l) => (l["level"] as number) >= 50)).toEqual([]);
    await rig.daemon?.stop();
    rig.daemon = undefined;
  });

  it("a kill -9 of the service mid-job loses no line and sends none twice; the job is renewed and completed", async () => {
    const first = rig.startProcess();
    const added = await rig.server.addJob({ repository: REPO, sha, workflowYaml: TICKS });
    await rig.server.waitForJob(added.id, (j) => j.feed.some((l) => l.text.endsWith("tick 3")), 240_000);
    await first.kill("SIGKILL");
    // While it is down the job goes on in the VM; its events wait in the runner's durable queue.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const restartedAt = Date.now();
    const second = rig.startProcess();
    const job = await rig.completed(added.id);
    expect(job.completion?.conclusion, `${first.output}\n----\n${second.output}`).toBe("succeeded");
    const stepLog = rig.server.stepLog(job.id, job.steps[0]!.externalId) ?? "";
    expect(ticks(stepLog)).toEqual(TWELVE);
    expect(rig.server.stepLog(job.id, job.steps[1]!.externalId)).toContain("second-step");
    // Live lines: none fed twice across the kill (the journal notes how far before each batch).
    const fed = expectFedOnce(job.feed, job.steps[0]!.externalId, stepLog);
    expect(fed).toBeGreaterThanOrEqual(3);
    expect(job.completeCount).toBe(1);
    expect(job.acquireCount).toBe(1);
    // Renewed by the second process too (a resumed job is renewed at once).
    expect(job.renewals.some((at) => at.getTime() >= restartedAt)).toBe(true);
    await second.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
    rig.process = undefined;
  });

  it("an outage of GitHub's broker for 20 s: the runner reconnects by itself and runs the job queued meanwhile", async () => {
    await rig.startDaemon();
    await eventually(
      "the runner polling",
      () => rig.server.sessions().some((s) => s.deletedAt === undefined),
      30_000,
    );
    rig.server.outage(["get-message", "create-session", "acknowledge"], 20_000, { drop: true });
    // Past the poll held when the outage began (it could still hand a job out).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const added = await rig.server.addJob({ repository: REPO, sha, workflowYaml: TICKS.replace("12", "2") });
    await new Promise((resolve) => setTimeout(resolve, 8000));
    expect(rig.server.job(added.id).status).toBe("queued");
    const job = await rig.completed(added.id, 120_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${rig.log.text()}`);
    });
    expect(job.completion?.conclusion, rig.log.text()).toBe("succeeded");
    // It kept trying during the outage (backing off as the reference runner does), not in a busy loop.
    const during = rig.server.calls.filter((c) => c.injected);
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.length).toBeLessThan(50);
    await eventually("the runner idle", () => rig.daemon?.jobs.size === 0, 30_000);
  });

  it("a runner removed on GitHub while idle: one clear error line, then a slow retry, no crash", async () => {
    await expectRemovedWhileIdle(rig);
    expect(rig.daemon).toBeDefined();
  });
});
