import { GitHubTestServer } from "@solstice/github-test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runnerTokenProvider } from "../src/auth/runner-token-provider.ts";
import { ActionsServiceError } from "../src/errors.ts";
import { jobConnection, parseJobMessage } from "../src/job/job-message.ts";
import { LegacyJobServer, STEP_SUMMARY_LIMIT_BYTES } from "../src/legacy/legacy-job-server.ts";
import { LegacyRunnerServer } from "../src/legacy/legacy-runner-server.ts";
import { decryptMessageBody, sessionKey } from "../src/legacy/message-decryption.ts";
import { registerRunner } from "../src/registration/register-runner.ts";
import type { RunnerConfiguration } from "../src/settings/runner-files.ts";

// The runner's legacy clients against the GitHub test server in legacy mode, without a VM: an
// encrypted session, a message that is not deleted coming back to the next session, a session
// conflict, renewals, a step summary attached to its record, and a plan older than version 8
// completed by finishing the job request.

let server: GitHubTestServer;
let config: RunnerConfiguration;
let runnerServer: LegacyRunnerServer;

const poll = (sessionId: string, lastMessageId?: number) => ({
  sessionId,
  lastMessageId,
  status: "Online" as const,
  runnerVersion: "2.330.0",
  os: "Linux",
  architecture: "X64",
  disableUpdate: true,
});

const agent = () => ({
  ownerName: "test (PID: 1)",
  agent: {
    id: config.settings.agentId,
    name: config.settings.agentName,
    version: "2.330.0",
    osDescription: "Linux",
  },
});

beforeAll(async () => {
  server = await GitHubTestServer.start({ useV2Flow: false, legacyPlanVersion: 7, messageHoldMs: 300 });
  server.addRepository("acme/widget");
  config = await registerRunner({
    url: server.gitHubUrl("acme/widget"),
    registrationToken: server.createRegistrationToken("acme/widget"),
    name: "legacy-1",
    labels: ["self-hosted", "Linux", "X64", "fast"],
  });
  runnerServer = new LegacyRunnerServer({
    tenantUrl: config.settings.serverUrl,
    poolId: config.settings.poolId,
    tokens: runnerTokenProvider(config),
  });
});

afterAll(async () => {
  await server?.close();
});

describe("the legacy flow's clients", () => {
  it("registered the legacy way", () => {
    expect(config.settings).toMatchObject({ useV2Flow: false, useRunnerAdminFlow: false, poolId: 1 });
    expect(server.calls.map((c) => c.endpoint)).not.toContain("register-runner");
  });

  it("gets the job in an encrypted message, again after a new session until deleted; renews; finishes old plans", async () => {
    const first = await runnerServer.createSession(agent());
    // A second session of the same runner conflicts.
    const conflict = await runnerServer.createSession(agent()).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(ActionsServiceError);
    expect((conflict as ActionsServiceError).status).toBe(409);
    expect((conflict as ActionsServiceError).errorKind).toBe("TaskAgentSessionConflictException");

    const added = await server.addJob({
      repository: "acme/widget",
      workflowYaml: "on: push\njobs:\n  b:\n    runs-on: fast\n    steps:\n      - run: echo hi\n",
    });
    const key = sessionKey(first.encryptionKey, config.key, first.useFipsEncryption ?? false);
    expect(key).toBeDefined();
    const message = await runnerServer.getMessage(poll(first.sessionId));
    expect(message?.messageType).toBe("PipelineAgentJobRequest");
    expect(message?.iv).toBeTruthy();
    expect(message?.body).not.toContain(added.id);
    const job = parseJobMessage(JSON.parse(decryptMessageBody(message!.body, message!.iv, key)) as unknown);
    expect(job.jobId.toLowerCase()).toBe(added.id);
    expect(job.plan.version).toBe(7);
    // Not deleted: the same message to the next session (after lastMessageId, nothing).
    expect(await runnerServer.getMessage(poll(first.sessionId, message!.messageId))).toBeUndefined();
    await runnerServer.deleteSession(first.sessionId);
    const second = await runnerServer.createSession(agent());
    const again = await runnerServer.getMessage(poll(second.sessionId));
    expect(again?.messageId).toBe(message!.messageId);
    await runnerServer.deleteMessage(again!.messageId, second.sessionId);
    expect(await runnerServer.getMessage(poll(second.sessionId))).toBeUndefined();
    expect(server.messages()[0]?.deletedAt).toBeDefined();

    const requestId = job.requestId ?? 0;
    const lockedUntil = await runnerServer.renewRequest(requestId);
    expect(lockedUntil).toBeGreaterThan(Date.now());
    expect(server.job(added.id).renewals).toHaveLength(1);

    const connection = jobConnection(job);
    const jobServer = new LegacyJobServer({
      plan: {
        url: connection.url,
        scopeIdentifier: job.plan.scopeIdentifier ?? "",
        hub: job.plan.planType ?? "",
        planId: job.plan.planId,
      },
      timelineId: job.timeline?.id ?? "",
      jobId: job.jobId,
      jobName: "b",
      requestId,
      planVersion: job.plan.version ?? 0,
      token: connection.accessToken,
      finishRequest: (result) => runnerServer.finishRequest(requestId, result),
    });
    const stepId = job.steps[0]!.id;
    await jobServer.updateSteps(1, [
      {
        externalId: stepId,
        number: 1,
        name: "Run echo hi",
        contextName: undefined,
        status: "completed",
        conclusion: "succeeded",
        startedAt: new Date(),
        completedAt: new Date(),
        lineCount: 1,
        logUploaded: false,
        annotations: [],
      },
    ]);
    expect(await jobServer.send([{ stepExternalId: stepId, startLine: 1, lines: ["hi"] }])).toBe(true);
    await jobServer.uploadStepLog(stepId, "2026-01-01T00:00:00.0000000Z hi\n", 1);
    // The step summary, attached to the step's record; one over 1 MiB is refused unsent.
    expect(await jobServer.uploadStepSummary(stepId, "### summary\n")).toBeUndefined();
    expect(server.legacyStepSummary(added.id, stepId)).toBe("### summary\n");
    const tooBig = await jobServer.uploadStepSummary(stepId, "x".repeat(STEP_SUMMARY_LIMIT_BYTES + 1));
    expect(tooBig?.message).toMatch(/over the 1048576-byte limit/);
    expect(server.calls.filter((c) => c.endpoint === "legacy-create-attachment")).toHaveLength(1);
    await jobServer.completeJob({ planId: job.plan.planId, jobId: job.jobId, conclusion: "succeeded" });
    const done = server.job(added.id);
    expect(done.status).toBe("completed");
    expect(done.result).toBe("succeeded");
    expect(done.requestFinish?.result).toBe("succeeded");
    expect(done.planEvents).toEqual([]);
    expect(server.recordLog(added.id, stepId)).toContain(" hi");
    expect(done.feed.map((l) => [l.stepId, l.lineNumber, l.text])).toEqual([[stepId.toLowerCase(), 1, "hi"]]);
    expect(server.timelineRecords(added.id).find((r) => r.id === added.id)).toMatchObject({
      state: "completed",
      result: "succeeded",
    });
    // The job is over: a renewal says so (the renewer stops on 404).
    const over = await runnerServer.renewRequest(requestId).catch((error: unknown) => error);
    expect((over as ActionsServiceError).status).toBe(404);
    await runnerServer.deleteSession(second.sessionId);
  });
});
