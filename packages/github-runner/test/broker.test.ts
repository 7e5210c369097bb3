import { describe, expect, it } from "vitest";
import {
  ActionsServiceError,
  acknowledgeQuery,
  brokerError,
  brokerUrl,
  decideMessage,
  messageQuery,
  parseMessageAnswer,
  pollRetryDelay,
  RunnerRemovedError,
  sessionBody,
  sessionFailureKind,
  sessionRetryDelay,
  timeSpanMs,
} from "../src/index.ts";

const accepting = { acceptingJobs: true };

describe("message decisions", () => {
  it("acquires a job request, acknowledging first when asked", () => {
    const body = JSON.stringify({
      id: "m1",
      runner_request_id: "r-1",
      should_acknowledge: true,
      run_service_url: "https://run.actions.githubusercontent.com/",
      billing_owner_id: "b-1",
    });
    expect(decideMessage({ messageId: 1, messageType: "RunnerJobRequest", body }, accepting)).toEqual({
      action: "acquire-job",
      runnerRequestId: "r-1",
      acknowledge: true,
      runServiceUrl: "https://run.actions.githubusercontent.com/",
      billingOwnerId: "b-1",
    });
    expect(decideMessage({ messageType: "RunnerJobRequest", body }, { acceptingJobs: false })).toMatchObject({
      action: "ignore",
    });
    expect(decideMessage({ messageType: "RunnerJobRequest", body: "{}" }, accepting)).toMatchObject({
      action: "ignore",
      level: "warn",
    });
  });

  it("cancels by job id with the .NET timeout", () => {
    const body = JSON.stringify({ JobId: "0F0E0D0C-0000-4000-8000-000000000001", Timeout: "00:05:00" });
    expect(decideMessage({ messageType: "JobCancellation", body }, accepting)).toEqual({
      action: "cancel-job",
      jobId: "0f0e0d0c-0000-4000-8000-000000000001",
      timeoutMs: 300_000,
    });
  });

  it("refreshes the token, shuts down, migrates, and drops the rest", () => {
    expect(decideMessage({ messageType: "ForceTokenRefresh", body: "" }, accepting)).toEqual({
      action: "refresh-token",
    });
    expect(
      decideMessage({ messageType: "RunnerShutdown", body: '{"reason":"deprovisioned"}' }, accepting),
    ).toEqual({
      action: "shutdown",
      reason: "deprovisioned",
    });
    expect(
      decideMessage(
        { messageType: "BrokerMigration", body: '{"brokerBaseUrl":"https://broker2/"}' },
        accepting,
      ),
    ).toEqual({ action: "migrate-broker", brokerUrl: "https://broker2/" });
    expect(
      decideMessage({ messageType: "RunnerRefresh", body: '{"target_version":"2.330.0"}' }, accepting),
    ).toMatchObject({
      action: "ignore",
      level: "info",
    });
    expect(
      decideMessage({ messageType: "RunnerRefreshConfig", body: '{"configType":"runner"}' }, accepting),
    ).toMatchObject({
      action: "ignore",
      level: "warn",
    });
    expect(decideMessage({ messageType: "Mystery", body: "" }, accepting)).toMatchObject({
      action: "ignore",
    });
  });

  it("reads .NET time spans", () => {
    expect(timeSpanMs("1.02:03:04.5")).toBe(((26 * 60 + 3) * 60 + 4.5) * 1000);
    expect(timeSpanMs(30)).toBe(30_000);
    expect(timeSpanMs("soon")).toBeUndefined();
  });
});

describe("broker requests and answers", () => {
  const identity = {
    sessionId: "s1",
    status: "Online" as const,
    runnerVersion: "2.329.0",
    os: "Linux",
    architecture: "X64",
  };

  it("builds the poll and acknowledge queries", () => {
    expect(brokerUrl("https://broker/", "message", messageQuery(identity, true))).toBe(
      "https://broker/message?sessionId=s1&status=Online&runnerVersion=2.329.0&os=Linux&architecture=X64&disableUpdate=true",
    );
    expect(acknowledgeQuery(identity)).not.toHaveProperty("disableUpdate");
    expect(brokerUrl("https://broker", "session")).toBe("https://broker/session");
  });

  it("creates sessions without an encryption key", () => {
    const body = sessionBody(
      { agentId: 3, agentName: "r", version: "2.329.0", osDescription: "Linux" },
      "host (PID: 1)",
    );
    expect(body).toEqual({
      sessionId: "00000000-0000-0000-0000-000000000000",
      ownerName: "host (PID: 1)",
      agent: { id: 3, name: "r", version: "2.329.0", osDescription: "Linux" },
      useFipsEncryption: false,
    });
  });

  it("reads an idle poll as no message", () => {
    expect(parseMessageAnswer(200, "")).toBeUndefined();
    expect(parseMessageAnswer(202, "")).toBeUndefined();
    expect(
      parseMessageAnswer(200, '{"messageId":5,"messageType":"RunnerJobRequest","iv":null,"body":"{}"}'),
    ).toEqual({
      messageId: 5,
      messageType: "RunnerJobRequest",
      iv: null,
      body: "{}",
    });
  });

  it("turns RunnerNotFound into RunnerRemovedError and keeps other kinds", () => {
    const body = (kind: string) =>
      JSON.stringify({
        source: "actions-broker-listener",
        errorKind: kind,
        statusCode: 404,
        errorMessage: "m",
      });
    expect(brokerError("get message", "u", 404, body("RunnerNotFound"))).toBeInstanceOf(RunnerRemovedError);
    const old = brokerError("get message", "u", 403, body("RunnerVersionTooOld"));
    expect(old).toBeInstanceOf(ActionsServiceError);
    expect((old as ActionsServiceError).errorKind).toBe("RunnerVersionTooOld");
  });
});

describe("back-off", () => {
  it("retries a session conflict every 30 s for up to 4 minutes", () => {
    expect(sessionRetryDelay("conflict", 1)).toBe(30_000);
    expect(sessionRetryDelay("conflict", 7)).toBe(30_000);
    expect(sessionRetryDelay("conflict", 8)).toBeUndefined();
    expect(sessionRetryDelay("transient", 100)).toBe(30_000);
    expect(sessionRetryDelay("fatal", 1)).toBeUndefined();
    expect(sessionFailureKind(new ActionsServiceError("create session", "u", 409, ""))).toBe("conflict");
    expect(sessionFailureKind(new RunnerRemovedError("x"))).toBe("fatal");
  });

  it("polls again after 15–30 s, then 30–60 s, and gives up at the tenth error", () => {
    expect(pollRetryDelay(1, () => 0)).toBe(15_000);
    expect(pollRetryDelay(5, () => 1)).toBe(30_000);
    expect(pollRetryDelay(6, () => 0.5)).toBe(45_000);
    expect(pollRetryDelay(10)).toBeUndefined();
  });
});
