import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { GitHubTestServer, type JobRecord } from "../src/index.ts";
import {
  accessToken,
  call,
  createSession,
  field,
  getMessage,
  type RunnerAuth,
  registerRunner,
} from "./runner-client.ts";

// A job's life through real HTTP and a real WebSocket, as the runner's listener and worker
// drive it: broker session and long poll, acknowledge, acquire, renew, results uploads, the
// live feed, completion; and the mistakes the server refuses.

const WORKFLOW = `on: push
jobs:
  build:
    runs-on: [self-hosted, omnios]
    steps:
      - run: echo one
      - run: echo two
`;

const servers: GitHubTestServer[] = [];

async function startServer(
  options: Parameters<typeof GitHubTestServer.start>[0] = {},
): Promise<GitHubTestServer> {
  const server = await GitHubTestServer.start({ messageHoldMs: 1_000, ...options });
  servers.push(server);
  server.addRepository("acme/widget");
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Listener {
  readonly auth: RunnerAuth;
  readonly token: string;
  readonly sessionId: string;
}

async function listen(server: GitHubTestServer, options: { ephemeral?: boolean } = {}): Promise<Listener> {
  const auth = await registerRunner(server, "acme/widget", server.createPersonalAccessToken(), {
    labels: ["omnios"],
    ...options,
  });
  const token = await accessToken(auth);
  return { auth, token, sessionId: await createSession(auth, token) };
}

/** Polls until a message comes; returns it. */
async function nextMessage(
  listener: Listener,
): Promise<{ messageId: number; messageType: string; body: string }> {
  for (let i = 0; i < 10; i++) {
    const answer = await getMessage(listener.auth, listener.token, listener.sessionId);
    if (answer.status === 200 && answer.body !== undefined)
      return answer.body as { messageId: number; messageType: string; body: string };
  }
  throw new Error("no message");
}

async function acquire(
  server: GitHubTestServer,
  listener: Listener,
): Promise<{ message: Record<string, unknown>; jobToken: string }> {
  const request = await nextMessage(listener);
  expect(request.messageType).toBe("RunnerJobRequest");
  const ref = JSON.parse(request.body) as Record<string, unknown>;
  expect(ref).toMatchObject({ should_acknowledge: true, run_service_url: server.urls.runService });
  const ack = await call(
    `${listener.auth.serverUrl}acknowledge?sessionId=${listener.sessionId}&status=Online&runnerVersion=2.330.0`,
    {
      headers: { authorization: `Bearer ${listener.token}` },
      body: { runnerRequestId: ref.runner_request_id },
    },
  );
  expect(ack.status).toBe(200);
  const acquired = await call(`${String(ref.run_service_url)}acquirejob`, {
    headers: { authorization: `Bearer ${listener.token}` },
    body: { jobMessageId: ref.runner_request_id, runnerOS: "Linux", billingOwnerId: ref.billing_owner_id },
  });
  expect(acquired.status).toBe(200);
  const message = acquired.body as Record<string, unknown>;
  const endpoint = (
    message.resources as { endpoints: { authorization: { parameters: { AccessToken: string } } }[] }
  ).endpoints[0];
  return { message, jobToken: endpoint?.authorization.parameters.AccessToken ?? "" };
}

function ids(message: Record<string, unknown>): { planId: string; jobId: string } {
  return { planId: (message.plan as { planId: string }).planId, jobId: message.jobId as string };
}

describe("broker", () => {
  it("holds an idle poll, answers 202 without a body, and refuses a second session (409)", async () => {
    const server = await startServer({ messageHoldMs: 300 });
    const listener = await listen(server);
    const started = Date.now();
    const idle = await getMessage(listener.auth, listener.token, listener.sessionId);
    expect(idle.status).toBe(202);
    expect(idle.body).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const second = await call(`${listener.auth.serverUrl}session`, {
      headers: { authorization: `Bearer ${listener.token}` },
      body: {
        ownerName: "x",
        agent: { id: listener.auth.id, name: "r", version: "2.330.0" },
        useFipsEncryption: false,
      },
    });
    expect(second.status).toBe(409);
    const badSession = await getMessage(
      listener.auth,
      listener.token,
      "11111111-1111-1111-1111-111111111111",
    );
    expect(badSession).toMatchObject({
      status: 404,
      body: { source: "actions-broker-listener", errorKind: "RunnerSessionInvalid" },
    });
    const deleted = await call(`${listener.auth.serverUrl}session`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${listener.token}` },
    });
    expect(deleted.status).toBe(200);
    expect(server.sessions()[0]?.deletedAt).toBeInstanceOf(Date);
  });

  it("delivers pushed messages once, and a job request wakes a held poll", async () => {
    const server = await startServer({ messageHoldMs: 5_000 });
    const listener = await listen(server);
    server.pushMessage(listener.auth.id, "ForceTokenRefresh", {});
    expect((await nextMessage(listener)).messageType).toBe("ForceTokenRefresh");
    const poll = getMessage(listener.auth, listener.token, listener.sessionId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const job = await server.addJob({ repository: "acme/widget", workflowYaml: WORKFLOW });
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(JSON.parse(field<string>(answer.body, "body"))).toMatchObject({
      runner_request_id: job.runnerRequestId,
    });
    expect(server.messages().map((m) => m.messageType)).toEqual(["ForceTokenRefresh", "RunnerJobRequest"]);
    // Not acknowledged: visible in the state.
    expect(server.messages()[1]?.acknowledgedAt).toBeUndefined();
    expect(server.job(job.id).status).toBe("assigned");
  });

  it("answers 401 with WWW-Authenticate: Bearer once the access token expired", async () => {
    const server = await startServer({ accessTokenLifetimeMs: 1_000, messageHoldMs: 100 });
    const listener = await listen(server);
    expect((await getMessage(listener.auth, listener.token, listener.sessionId)).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const expired = await getMessage(listener.auth, listener.token, listener.sessionId);
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const fresh = await accessToken(listener.auth);
    expect((await getMessage(listener.auth, fresh, listener.sessionId)).status).toBe(202);
  });
});

describe("run service and results", () => {
  it("runs a job: acquire, renew with the job token, results uploads, live feed, complete", async () => {
    const server = await startServer();
    const listener = await listen(server, { ephemeral: true });
    const job = await server.addJob({
      repository: "acme/widget",
      workflowYaml: WORKFLOW,
      secrets: { API_KEY: "k" },
    });
    const { message, jobToken } = await acquire(server, listener);
    expect(server.messages()[0]?.acknowledgedAt).toBeInstanceOf(Date);
    const { planId, jobId } = ids(message);
    const runService = server.urls.runService;
    const jobAuth = { authorization: `Bearer ${jobToken}` };

    // Renewing with the runner's token is refused; with the job's it locks the job.
    const wrongToken = await call(`${runService}renewjob`, {
      headers: { authorization: `Bearer ${listener.token}` },
      body: { planId, jobId },
    });
    expect(wrongToken).toMatchObject({
      status: 403,
      body: { source: "actions-run-service", statusCode: 403 },
    });
    const renewed = await call(`${runService}renewjob`, { headers: jobAuth, body: { planId, jobId } });
    expect(renewed.status).toBe(200);
    expect(Date.parse(field<string>(renewed.body, "lockedUntil"))).toBeGreaterThan(Date.now());

    // Step updates (the Results API's enum numbers) and a step log through the signed URL.
    const [step1, step2] = server.stepIds(job.id);
    const results = `${String((message.variables as Record<string, { value: string }>)["system.github.results_endpoint"]?.value)}twirp/`;
    const twirp = (method: string, body: unknown) => call(`${results}${method}`, { headers: jobAuth, body });
    const jobIds = { workflow_run_backend_id: planId, workflow_job_run_backend_id: jobId };
    const update = await twirp(
      "github.actions.results.api.v1.WorkflowStepUpdateService/WorkflowStepsUpdate",
      {
        ...jobIds,
        change_order: 1,
        steps: [
          {
            external_id: step1,
            number: 1,
            name: "Run echo one",
            status: 6,
            conclusion: 2,
            started_at: "2025-01-01T00:00:00.000Z",
            completed_at: "2025-01-01T00:00:01.000Z",
          },
          {
            external_id: step2,
            number: 2,
            name: "Run echo two",
            status: 3,
            conclusion: 0,
            started_at: "2025-01-01T00:00:01.000Z",
            completed_at: null,
          },
        ],
      },
    );
    expect(update).toMatchObject({ status: 200, body: { ok: true } });
    const camel = await twirp("github.actions.results.api.v1.WorkflowStepUpdateService/WorkflowStepsUpdate", {
      ...jobIds,
      change_order: 2,
      steps: [{ external_id: step2, number: 2, name: "x", status: "completed", conclusion: "succeeded" }],
    });
    expect(camel).toMatchObject({ status: 400, body: { code: "invalid_argument" } });
    const signed = await twirp("results.services.receiver.Receiver/GetStepLogsSignedBlobURL", {
      ...jobIds,
      step_backend_id: step1,
    });
    expect(signed.body).toMatchObject({ ok: true, blob_storage_type: "BLOB_STORAGE_TYPE_AZURE" });
    const logsUrl = field<string>(signed.body, "logs_url");
    expect(new URL(logsUrl).search).toMatch(/sig=/);
    const put = (url: string, body: string, headers: Record<string, string> = {}) =>
      fetch(url, { method: "PUT", body, headers });
    expect((await put(logsUrl, "", { "x-ms-blob-type": "AppendBlob" })).status).toBe(201);
    expect((await put(`${logsUrl}&comp=appendblock`, "line 1\n")).status).toBe(201);
    expect(
      (await put(`${logsUrl}&comp=appendblock&seal=true`, "line 2\n", { "x-ms-blob-sealed": "True" })).status,
    ).toBe(201);
    const afterSeal = await put(`${logsUrl}&comp=appendblock`, "late\n");
    expect(afterSeal.status).toBe(409);
    expect(afterSeal.headers.get("x-ms-error-code")).toBe("BlobIsSealed");
    const forged = await put(logsUrl.replace(/sig=[^&]+/, "sig=forged"), "", {
      "x-ms-blob-type": "AppendBlob",
    });
    expect(forged.status).toBe(403);
    expect(
      await twirp("results.services.receiver.Receiver/CreateStepLogsMetadata", {
        ...jobIds,
        step_backend_id: step1,
        uploaded_at: "2025-01-01T00:00:02.000Z",
        line_count: 2,
      }),
    ).toMatchObject({ body: { ok: true } });
    expect(server.stepLog(job.id, step1 ?? "")).toBe("line 1\nline 2\n");
    const jobLogUrl = field<string>(
      (await twirp("results.services.receiver.Receiver/GetJobLogsSignedBlobURL", jobIds)).body,
      "logs_url",
    );
    expect((await put(jobLogUrl, "whole job log\n", { "x-ms-blob-type": "BlockBlob" })).status).toBe(201);
    expect(server.jobLog(job.id)).toBe("whole job log\n");

    // Live lines over the feed WebSocket, camelCase as the runner writes them.
    const feedUrl = String(
      (message.resources as { endpoints: { data: Record<string, string> }[] }).endpoints[0]?.data
        .FeedStreamUrl,
    );
    const socket = new WebSocket(feedUrl, { headers: { authorization: `Bearer ${jobToken}` } });
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const sentAt = performance.timeOrigin + performance.now();
    socket.send(JSON.stringify({ count: 2, value: ["hello", "world"], stepId: step2, startLine: 1 }));
    socket.send(JSON.stringify({ Count: 1, Value: ["pascal"], StepId: step2 }));
    const live = await server.waitForJob(
      job.id,
      (j) => j.feed.length === 2 && j.feedRejected.length === 1,
      5_000,
    );
    socket.close();
    expect(live.feed.map((l) => [l.text, l.lineNumber, l.stepId])).toEqual([
      ["hello", 1, step2],
      ["world", 2, step2],
    ]);
    expect(live.feed[0]?.receivedAt).toBeGreaterThanOrEqual(sentAt - 5);
    expect(live.feedRejected[0]?.reason).toMatch(/camelCase/);

    // A numeric conclusion is refused; the camelCase string completes the job.
    const numeric = await call(`${runService}completejob`, {
      headers: jobAuth,
      body: { planId, jobId, conclusion: 0 },
    });
    expect(numeric.status).toBe(400);
    const completed = await call(`${runService}completejob`, {
      headers: jobAuth,
      body: {
        planId,
        jobId,
        conclusion: "succeeded",
        outputs: { out: { value: "1" } },
        stepResults: [],
        annotations: [],
        telemetry: [],
      },
    });
    expect(completed.status).toBe(200);
    const done = server.job(job.id);
    expect(done).toMatchObject({ status: "completed", result: "succeeded", renewals: [expect.any(Date)] });
    expect(done.completion?.outputs).toEqual({ out: { value: "1" } });
    expect(done.steps.map((s) => [s.externalId, s.status, s.conclusion])).toEqual([
      [step1, 6, 2],
      [step2, 3, 0],
    ]);
    // 404 tells the runner to stop renewing; the ephemeral runner is gone.
    expect((await call(`${runService}renewjob`, { headers: jobAuth, body: { planId, jobId } })).status).toBe(
      404,
    );
    expect(server.runners()[0]?.deletedAt).toBeInstanceOf(Date);
  });

  it("tells other runners 409 and unknown ids 404 in the body, and refuses acquire with a job token", async () => {
    const server = await startServer();
    const first = await listen(server);
    const second = await listen(server);
    const job = await server.addJob({ repository: "acme/widget", workflowYaml: WORKFLOW });
    await nextMessage(first);
    const other = await call(`${server.urls.runService}acquirejob`, {
      headers: { authorization: `Bearer ${second.token}` },
      body: { jobMessageId: job.runnerRequestId, runnerOS: "Linux" },
    });
    expect(other).toMatchObject({ status: 409, body: { source: "actions-run-service", statusCode: 409 } });
    const unknown = await call(`${server.urls.runService}acquirejob`, {
      headers: { authorization: `Bearer ${second.token}` },
      body: { jobMessageId: "no-such-request" },
    });
    expect(unknown.body).toMatchObject({ statusCode: 404 });
  });

  it("cancels a running job with a JobCancellation message; its completion is recorded as canceled", async () => {
    const server = await startServer();
    const listener = await listen(server);
    const job = await server.addJob({ repository: "acme/widget", workflowYaml: WORKFLOW });
    const { message, jobToken } = await acquire(server, listener);
    server.cancelJob(job.id);
    const cancel = await nextMessage(listener);
    expect(cancel.messageType).toBe("JobCancellation");
    expect(JSON.parse(cancel.body)).toEqual({ jobId: job.id, timeout: "00:05:00" });
    const completed = await call(`${server.urls.runService}completejob`, {
      headers: { authorization: `Bearer ${jobToken}` },
      body: { ...ids(message), conclusion: "canceled" },
    });
    expect(completed.status).toBe(200);
    expect(server.job(job.id)).toMatchObject({ result: "canceled", completion: { conclusion: "canceled" } });
    // A queued job cancelled before any runner took it is never handed out.
    const queued = await server.addJob({
      repository: "acme/widget",
      workflowYaml: WORKFLOW.replace("omnios", "nobody"),
    });
    server.cancelJob(queued.id);
    expect(server.job(queued.id)).toMatchObject({ status: "completed", result: "canceled" });
  });

  it("abandons a job whose lock runs out without renewal", async () => {
    const server = await startServer({ jobLockMs: 300 });
    const listener = await listen(server);
    const job = await server.addJob({ repository: "acme/widget", workflowYaml: WORKFLOW });
    const { message, jobToken } = await acquire(server, listener);
    const abandoned: JobRecord = await server.waitForJob(job.id, (j) => j.status === "abandoned", 5_000);
    expect(abandoned.result).toBe("abandoned");
    const late = await call(`${server.urls.runService}renewjob`, {
      headers: { authorization: `Bearer ${jobToken}` },
      body: ids(message),
    });
    expect(late.status).toBe(404);
  });
});

describe("fault injection and the call log", () => {
  it("fails, delays and drops the next calls of an endpoint, and records every call", async () => {
    const server = await startServer({ messageHoldMs: 50 });
    const listener = await listen(server);
    server.failNext("get-message", { count: 2, status: 503, body: "busy" });
    expect((await getMessage(listener.auth, listener.token, listener.sessionId)).status).toBe(503);
    expect((await getMessage(listener.auth, listener.token, listener.sessionId)).status).toBe(503);
    server.delayNext("get-message", 200);
    const started = Date.now();
    expect((await getMessage(listener.auth, listener.token, listener.sessionId)).status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    server.dropNext("get-message");
    await expect(getMessage(listener.auth, listener.token, listener.sessionId)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const polls = server.calls.filter((c) => c.endpoint === "get-message");
    expect(polls.map((c) => [c.status, c.injected])).toEqual([
      [503, true],
      [503, true],
      [202, true],
      [0, true],
    ]);
    expect(server.calls.map((c) => c.endpoint)).toContain("register-runner");
  });
});
