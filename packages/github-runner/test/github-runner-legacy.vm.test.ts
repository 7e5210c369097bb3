import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { CliContext } from "@solstice/cli-kit";
import type { JobRecord } from "@solstice/github-test-server";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeCommand } from "../src/cli/remove-command.ts";
import { GitHubRig, makeRepository, REPO } from "./github-support.ts";

// The legacy (GHES) flow end to end: the test server answers runner-registration with
// `use_v2_flow: false`, so the runner registers through distributedtask pools and agents,
// listens on an encrypted session, gets the job in a PipelineAgentJobRequest message, renews the
// job request, and reports through timeline records, logs, the record feed and the JobCompleted
// plan event, while a real orchestrator runs the job in the fast guest. One job, one VM.

let rig: GitHubRig;
let sha: string;

beforeAll(async () => {
  rig = await GitHubRig.start("legacy", { server: { useV2Flow: false } });
  const repo = await makeRepository(rig.dir, { "hello.txt": "hello from the repository\n" });
  sha = repo.sha;
  rig.server.addRepository(REPO, { gitDir: repo.path, private: true });
  await rig.register();
  await rig.startDaemon();
});

afterAll(async () => {
  await rig?.stop();
});

function cliContext(): { ctx: CliContext; output: string[] } {
  const output: string[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _e, done) => {
      output.push(chunk.toString());
      done();
    },
  });
  return {
    ctx: { stdout: sink, stderr: sink, env: {}, cwd: "/", action: () => async () => undefined },
    output,
  };
}

describe("github-runner in the legacy (GHES) flow", () => {
  it("registers through pools and agents and writes the legacy settings", async () => {
    const endpoints = rig.server.calls.map((c) => c.endpoint);
    expect(endpoints).toContain("runner-registration");
    expect(endpoints.filter((e) => e.startsWith("legacy-")).slice(0, 3)).toEqual([
      "legacy-pools",
      "legacy-list-agents",
      "legacy-add-agent",
    ]);
    expect(endpoints).not.toContain("register-runner");
    expect(endpoints).not.toContain("runner-groups");
    const settings = JSON.parse(await readFile(join(rig.stateDir, ".runner"), "utf8")) as Record<
      string,
      unknown
    >;
    const runner = rig.server.runners()[0];
    expect(settings).toMatchObject({
      agentId: runner?.id,
      agentName: "solstice-test",
      poolId: 1,
      poolName: "Default",
    });
    expect(settings["serverUrl"]).toBe(rig.server.urls.tenant);
    expect(settings["useV2Flow"]).toBeUndefined();
    expect(settings["serverUrlV2"]).toBeUndefined();
    const credentials = JSON.parse(await readFile(join(rig.stateDir, ".credentials"), "utf8")) as {
      scheme: string;
      data: Record<string, string>;
    };
    expect(credentials.scheme).toBe("OAuth");
    expect(credentials.data).toMatchObject({
      clientId: runner?.clientId,
      authorizationUrl: rig.server.urls.oauth,
      requireFipsCryptography: "True",
    });
    expect((await stat(join(rig.stateDir, ".credentials_rsaparams"))).mode & 0o777).toBe(0o600);
  });

  it("runs a job: timeline records in order, logs, feed lines, masking, JobCompleted, messages deleted", async () => {
    const secret = "legacy-secret-value-9731";
    const added = await rig.server.addJob({
      repository: REPO,
      sha,
      secrets: { API_KEY: secret },
      workflowYaml: `on: push
jobs:
  build:
    runs-on: [self-hosted, fast]
    steps:
      - uses: actions/checkout@v4
      - name: Show
        run: |
          cat hello.txt
          i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); done
      - name: Fails
        continue-on-error: true
        run: |
          echo "about to fail"
          exit 3
      - name: Secret
        env:
          API_KEY: \${{ secrets.API_KEY }}
        run: echo "the secret is $API_KEY"
`,
    });
    const job: JobRecord = await rig.completed(added.id);
    expect(job.status, rig.log.text()).toBe("completed");
    expect(job.result).toBe("succeeded");

    // JobCompleted, once, for this job and request.
    expect(job.planEvents.map((e) => [e.name, e.jobId?.toLowerCase(), e.requestId, e.result])).toEqual([
      ["JobCompleted", job.id, job.legacyRequestId, "succeeded"],
    ]);
    expect(job.requestFinish).toBeUndefined();
    // The lock was renewed before anything was reported.
    expect(job.renewals.length).toBeGreaterThanOrEqual(1);
    expect(job.renewals[0]!.getTime()).toBeLessThanOrEqual(job.timelineUpdates[0]!.at.getTime());

    // The job's record and its steps' records.
    const records = rig.server.timelineRecords(job.id);
    const jobRecord = records.find((r) => r.id === job.id);
    expect(jobRecord).toMatchObject({ type: "Job", state: "completed", result: "succeeded" });
    const steps = records
      .filter((r) => r.parentId === job.id)
      .sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
    expect(steps.map((s) => s.id)).toEqual(rig.server.stepIds(job.id));
    expect(steps.map((s) => `${s.name}: ${s.state}/${s.result}`)).toEqual([
      "Run actions/checkout@v4: completed/succeeded",
      "Show: completed/succeeded",
      "Fails: completed/failed",
      "Secret: completed/succeeded",
    ]);
    for (let i = 1; i < steps.length; i++) {
      expect(Date.parse(steps[i]!.startTime ?? "")).toBeGreaterThanOrEqual(
        Date.parse(steps[i - 1]!.finishTime ?? ""),
      );
    }
    expect(steps[2]!.errorCount).toBeGreaterThanOrEqual(1);
    // A step's record was seen in progress before it was completed.
    const states = job.timelineUpdates.flatMap((u) =>
      u.records.filter((r) => r.id === steps[1]!.id).map((r) => r.state),
    );
    expect(states.indexOf("inProgress")).toBeGreaterThanOrEqual(0);
    expect(states.indexOf("inProgress")).toBeLessThan(states.indexOf("completed"));

    // Logs, linked from the records.
    const stepLog = (i: number) => rig.server.recordLog(job.id, steps[i]!.id) ?? "";
    expect(stepLog(0)).toContain(`HEAD is now at ${sha}`);
    const show = stepLog(1);
    expect(show).toContain("hello from the repository");
    expect(
      show
        .split("\n")
        .filter((l) => /\bline \d+$/.test(l))
        .map((l) => l.replace(/^.*\bline /, "line ")),
    ).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
    expect(stepLog(2)).toContain("##[error]Process completed with exit code 3.");
    expect(stepLog(3)).toContain("the secret is ***");
    expect(rig.server.recordLog(job.id, job.id)).toContain("the secret is ***");
    // Each log written once (a create and one append).
    for (const log of job.logs.values()) expect(log.appends).toBeLessThanOrEqual(1);

    // Live lines on the job record's feed, under the step's id, each once.
    const fed = job.feed.filter((l) => l.stepId === steps[1]!.id && /\bline \d+$/.test(l.text));
    expect(fed.map((l) => l.text.replace(/^.*\bline /, "line "))).toEqual(
      Array.from({ length: 30 }, (_, i) => `line ${i + 1}`),
    );

    // The secret nowhere.
    const all = [
      ...[...job.logs.values()].map((l) => l.content),
      ...job.feed.map((l) => l.text),
      JSON.stringify(records),
      JSON.stringify(job.planEvents),
    ].join("\n");
    expect(all).not.toContain(secret);

    // The job request message was delivered encrypted and deleted.
    const runnerId = rig.server.runners()[0]!.id;
    const messages = rig.server.messages().filter((m) => m.runnerId === runnerId);
    expect(messages.map((m) => m.messageType)).toEqual(["PipelineAgentJobRequest"]);
    await eventually("the job request message deleted", () =>
      messages.every((m) => m.deletedAt !== undefined),
    );
    expect(messages[0]!.deliveries).toBe(1);
    expect(rig.server.calls.map((c) => c.endpoint)).not.toContain("acquirejob");
    expect(rig.server.calls.map((c) => c.endpoint)).not.toContain("get-message");
    expect((await rig.vms()).length).toBe(0);
  });

  it("deletes its session on stop, and `remove` deletes the agent", async () => {
    const live = () => rig.server.sessions().filter((s) => s.deletedAt === undefined);
    expect(live()).toHaveLength(1);
    expect(live()[0]!.encryptionKey).toBeDefined();
    await rig.daemon?.stop();
    expect(live()).toEqual([]);
    expect(rig.server.calls.map((c) => c.endpoint)).toContain("legacy-delete-session");
    await expect(stat(join(rig.stateDir, ".session"))).rejects.toThrow(/ENOENT/);

    const { ctx, output } = cliContext();
    const code = await removeCommand(ctx, {
      token: rig.server.createRemoveToken(REPO),
      stateDir: rig.stateDir,
    });
    expect(code, output.join("")).toBe(0);
    expect(rig.server.runners()[0]!.deletedAt).toBeDefined();
    expect(rig.server.calls.map((c) => c.endpoint)).toContain("legacy-delete-agent");
    await expect(stat(join(rig.stateDir, ".runner"))).rejects.toThrow(/ENOENT/);
  });
});
