import { createPublicKey } from "node:crypto";
import { encryptMessageBody, newSessionKey, wrapSessionKey } from "@solstice/github-test-server";
import { describe, expect, it } from "vitest";
import { generateRunnerKey } from "../src/auth/rsa-key.ts";
import { RunnerGroupNotFoundError } from "../src/errors.ts";
import {
  chooseLegacyPool,
  completesByPlanEvent,
  configurationFromLegacyAgent,
  feedLinesBody,
  jobCompletedEvent,
  jobRequestBody,
  jobTimelineRecord,
  legacyAgentBody,
  stepTimelineRecords,
  TaskAgentSchema,
} from "../src/legacy/legacy-api.ts";
import {
  acceptHeader,
  agentsUrl,
  EMPTY_LOCK_TOKEN,
  jobRequestUrl,
  logsUrl,
  messagesUrl,
  messageUrl,
  planEventsUrl,
  poolsUrl,
  sessionsUrl,
  timelineFeedUrl,
  timelineRecordsUrl,
} from "../src/legacy/legacy-urls.ts";
import { decryptMessageBody, sessionKey } from "../src/legacy/message-decryption.ts";
import { parseGitHubUrl } from "../src/registration/github-urls.ts";
import type { StepReportState } from "../src/report/job-report.ts";

// The legacy (GHES) flow's pure pieces: the session encryption (the test server's side against
// the runner's), the resource URLs, the pool choice, the files from the agent, timeline records,
// feed lines and the JobCompleted event.

const key = generateRunnerKey();
const publicKey = createPublicKey(key);

describe("legacy message encryption", () => {
  it.each([false, true])("round-trips a message body (useFipsEncryption %s)", (fips) => {
    const aes = newSessionKey();
    const wrapped = wrapSessionKey(aes, publicKey, fips).toString("base64");
    const unwrapped = sessionKey({ encrypted: true, value: wrapped }, key, fips);
    expect(unwrapped?.equals(aes)).toBe(true);
    const body = JSON.stringify({ jobId: "x", text: "é ✓ ".repeat(1000) });
    const message = encryptMessageBody(body, aes);
    expect(message.body).not.toContain("jobId");
    expect(decryptMessageBody(message.body, message.iv, unwrapped)).toBe(body);
  });

  it("fails clearly with the wrong OAEP hash or another runner's key", () => {
    const wrapped = wrapSessionKey(newSessionKey(), publicKey, true).toString("base64");
    expect(() => sessionKey({ encrypted: true, value: wrapped }, key, false)).toThrow(/cannot be decrypted/);
    expect(() => sessionKey({ encrypted: true, value: wrapped }, generateRunnerKey(), true)).toThrow(
      /cannot be decrypted/,
    );
  });

  it("reads unencrypted sessions and messages without an iv as they are", () => {
    const raw = newSessionKey();
    expect(sessionKey({ encrypted: false, value: raw.toString("base64") }, key, false)?.equals(raw)).toBe(
      true,
    );
    expect(sessionKey(undefined, key, false)).toBeUndefined();
    expect(decryptMessageBody('{"a":1}', undefined, raw)).toBe('{"a":1}');
    expect(decryptMessageBody('{"a":1}', "AAAA", undefined)).toBe('{"a":1}');
    expect(() =>
      decryptMessageBody("bm90IGNpcGhlcnRleHQ=", Buffer.alloc(16).toString("base64"), raw),
    ).toThrow(/cannot be decrypted/);
  });

  it("refuses a session key that is not an AES key", () => {
    expect(() =>
      sessionKey({ encrypted: false, value: Buffer.alloc(7).toString("base64") }, key, false),
    ).toThrow(/not an AES key/);
  });
});

describe("legacy resource URLs", () => {
  const tenant = "https://ghes.example/_services/pipelines/abc";
  it("builds the distributedtask paths under the tenant", () => {
    expect(poolsUrl(tenant)).toBe(`${tenant}/_apis/distributedtask/pools`);
    expect(poolsUrl(`${tenant}/`, "Default")).toBe(`${tenant}/_apis/distributedtask/pools?poolName=Default`);
    expect(agentsUrl(tenant, 1, undefined, "my runner")).toBe(
      `${tenant}/_apis/distributedtask/pools/1/agents?agentName=my+runner`,
    );
    expect(agentsUrl(tenant, 1, 7)).toBe(`${tenant}/_apis/distributedtask/pools/1/agents/7`);
    expect(sessionsUrl(tenant, 1, "s-1")).toBe(`${tenant}/_apis/distributedtask/pools/1/sessions/s-1`);
    expect(
      messagesUrl(tenant, 1, {
        sessionId: "s-1",
        lastMessageId: 5,
        status: "Online",
        runnerVersion: "2.330.0",
        os: "Linux",
        architecture: "X64",
        disableUpdate: true,
      }),
    ).toBe(
      `${tenant}/_apis/distributedtask/pools/1/messages?sessionId=s-1&lastMessageId=5&status=Online&runnerVersion=2.330.0&os=Linux&architecture=X64&disableUpdate=true`,
    );
    expect(messageUrl(tenant, 1, 5, "s-1")).toBe(
      `${tenant}/_apis/distributedtask/pools/1/messages/5?sessionId=s-1`,
    );
    expect(jobRequestUrl(tenant, 1, 42)).toBe(
      `${tenant}/_apis/distributedtask/pools/1/jobrequests/42?lockToken=${EMPTY_LOCK_TOKEN}`,
    );
    expect(acceptHeader("5.1-preview.1")).toBe("application/json;api-version=5.1-preview.1");
  });

  it("builds the plan paths from the job message's plan", () => {
    const plan = { url: `${tenant}/`, scopeIdentifier: "s", hub: "actions", planId: "p" };
    const base = `${tenant}/s/_apis/distributedtask/hubs/actions/plans/p`;
    expect(timelineRecordsUrl(plan, "t")).toBe(`${base}/timelines/t/records`);
    expect(timelineFeedUrl(plan, "t", "r")).toBe(`${base}/timelines/t/records/r/feed`);
    expect(logsUrl(plan)).toBe(`${base}/logs`);
    expect(logsUrl(plan, 3)).toBe(`${base}/logs/3`);
    expect(planEventsUrl(plan)).toBe(`${base}/events`);
  });
});

describe("legacy registration", () => {
  const pool = (id: number, name: string, extra: object = {}) => ({
    id,
    name,
    isHosted: false,
    isInternal: false,
    ...extra,
  });

  it("chooses the named pool, else the internal one, never a hosted one", () => {
    const pools = [
      pool(1, "Default", { isInternal: true }),
      pool(2, "Big"),
      pool(3, "Hosted", { isHosted: true }),
    ];
    expect(chooseLegacyPool(pools).id).toBe(1);
    expect(chooseLegacyPool(pools, "big").id).toBe(2);
    expect(() => chooseLegacyPool(pools, "Hosted")).toThrow(RunnerGroupNotFoundError);
    expect(() => chooseLegacyPool([])).toThrow(RunnerGroupNotFoundError);
  });

  it("sends the public key as exponent and modulus, labels with their types", () => {
    const body = legacyAgentBody({
      name: "r1",
      version: "2.330.0",
      osDescription: "Linux 6",
      labels: ["self-hosted", "Linux", "X64", "omnios"],
      ephemeral: false,
      disableUpdate: true,
      key,
    });
    const jwk = publicKey.export({ format: "jwk" });
    expect(body).toMatchObject({
      name: "r1",
      maxParallelism: 1,
      disableUpdate: true,
      authorization: {
        publicKey: {
          exponent: Buffer.from(jwk.e ?? "", "base64url").toString("base64"),
          modulus: Buffer.from(jwk.n ?? "", "base64url").toString("base64"),
        },
      },
    });
    expect(body["labels"]).toEqual([
      { name: "self-hosted", type: "system" },
      { name: "Linux", type: "system" },
      { name: "X64", type: "system" },
      { name: "omnios", type: "user" },
    ]);
    expect(body["id"]).toBeUndefined();
    expect(
      legacyAgentBody(
        {
          name: "r1",
          version: "",
          osDescription: "",
          labels: [],
          ephemeral: false,
          disableUpdate: true,
          key,
        },
        9,
      )["id"],
    ).toBe(9);
  });

  const outcome = (agent: unknown) => ({
    target: parseGitHubUrl("https://ghes.example/acme/widget"),
    tenant: { url: "https://ghes.example/_services/pipelines/abc", use_v2_flow: false, token: "t" },
    pool: { id: 1, name: "Default", isHosted: false, isInternal: true },
    agent: TaskAgentSchema.parse(agent),
    key,
    ephemeral: false,
    disableUpdate: true,
    workFolder: "_work",
  });

  it("writes the settings and credentials the reference runner writes in the legacy flow", () => {
    const config = configurationFromLegacyAgent(
      outcome({
        id: 7,
        name: "r1",
        authorization: {
          authorizationUrl: "https://ghes.example/oauth",
          clientId: "0c5b1c3e-1111-2222-3333-444455556666",
        },
        properties: { RequireFipsCryptography: { $type: "System.Boolean", $value: false } },
      }),
    );
    expect(config?.settings).toMatchObject({
      agentId: 7,
      agentName: "r1",
      poolId: 1,
      poolName: "Default",
      serverUrl: "https://ghes.example/_services/pipelines/abc",
      gitHubUrl: "https://ghes.example/acme/widget",
      useV2Flow: false,
      useRunnerAdminFlow: false,
    });
    expect(config?.settings.serverUrlV2).toBeUndefined();
    expect(config?.credentials).toEqual({
      scheme: "OAuth",
      data: {
        clientId: "0c5b1c3e-1111-2222-3333-444455556666",
        authorizationUrl: "https://ghes.example/oauth",
        requireFipsCryptography: false,
      },
    });
  });

  it("follows the agent's properties (FIPS by default, a server-enforced broker) and refuses no OAuth client", () => {
    const config = configurationFromLegacyAgent(
      outcome({
        id: 7,
        name: "r1",
        authorization: {
          authorizationUrl: "https://ghes.example/oauth",
          clientId: "0c5b1c3e-1111-2222-3333-444455556666",
        },
        properties: {
          ServerUrlV2: "https://broker.example/",
          UseV2Flow: { $type: "System.Boolean", $value: "True" },
        },
      }),
    );
    expect(config?.credentials.data.requireFipsCryptography).toBe(true);
    expect(config?.settings).toMatchObject({ serverUrlV2: "https://broker.example/", useV2Flow: true });
    expect(
      configurationFromLegacyAgent(
        outcome({ id: 7, name: "r1", authorization: { clientId: "00000000-0000-0000-0000-000000000000" } }),
      ),
    ).toBeUndefined();
  });
});

describe("legacy reporting bodies", () => {
  const step = (n: number, extra: Partial<StepReportState> = {}): StepReportState => ({
    externalId: `step-${n}`,
    number: n,
    name: `Step ${n}`,
    contextName: `s${n}`,
    status: "completed",
    conclusion: "succeeded",
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
    completedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n + 1)),
    lineCount: 3,
    logUploaded: false,
    annotations: [],
    ...extra,
  });

  it("turns steps into child records of the job's record, issues from annotations", () => {
    const records = stepTimelineRecords("job-1", [
      step(1),
      step(2, {
        conclusion: "failed",
        annotations: [
          { level: "failure", message: "boom", path: "a.c", startLine: 3 },
          { level: "warning", message: "hm" },
          { level: "notice", message: "fyi" },
        ],
      }),
      step(3, { status: "pending", conclusion: undefined, startedAt: undefined, completedAt: undefined }),
    ]);
    expect(records[0]).toEqual({
      id: "step-1",
      parentId: "job-1",
      type: "Task",
      name: "Step 1",
      refName: "s1",
      order: 1,
      state: "completed",
      result: "succeeded",
      startTime: "2026-01-01T00:00:01.000Z",
      finishTime: "2026-01-01T00:00:02.000Z",
      errorCount: 0,
      warningCount: 0,
      issues: [],
    });
    expect(records[1]).toMatchObject({ result: "failed", errorCount: 1, warningCount: 1 });
    expect(records[1]?.issues?.[0]).toMatchObject({
      type: "error",
      message: "boom",
      data: { file: "a.c", line: "3" },
    });
    expect(records[2]).toMatchObject({ state: "pending", result: null, startTime: null });
    expect(jobTimelineRecord("job-1", "build", {})).toEqual({
      id: "job-1",
      type: "Job",
      name: "build",
      state: "inProgress",
    });
    expect(jobTimelineRecord("job-1", "build", { result: "failed" })).toMatchObject({
      state: "completed",
      result: "failed",
    });
  });

  it("writes feed lines, job request bodies and the JobCompleted event", () => {
    expect(feedLinesBody("s", ["a", "b"], 4)).toEqual({
      stepId: "s",
      value: ["a", "b"],
      count: 2,
      startLine: 4,
    });
    expect(jobRequestBody(42)).toEqual({ requestId: 42 });
    expect(jobRequestBody(42, { result: "canceled", finishTime: new Date(0) })).toEqual({
      requestId: 42,
      finishTime: "1970-01-01T00:00:00.000Z",
      result: "canceled",
    });
    expect(jobCompletedEvent(42, "job-1", "succeeded", { v: "1" })).toEqual({
      name: "JobCompleted",
      jobId: "job-1",
      requestId: 42,
      result: "succeeded",
      outputs: { v: { value: "1", isSecret: false } },
    });
    expect(completesByPlanEvent(8)).toBe(true);
    expect(completesByPlanEvent(7)).toBe(false);
    expect(completesByPlanEvent(undefined)).toBe(false);
  });
});
