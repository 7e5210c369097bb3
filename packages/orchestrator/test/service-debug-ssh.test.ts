import { afterEach, describe, expect, test, vi } from "vitest";
import { DebugHolds } from "../src/service/debug-holds.ts";
import {
  type DebugHold,
  debugSshLine,
  decideDebugHold,
  projectKey,
} from "../src/service/debug-ssh-policy.ts";

const now = new Date("2026-03-01T12:00:00Z");
const request = (fields: { debug_ssh?: boolean; repo_url?: string; request_id?: string } = {}) => ({
  request_id: fields.request_id ?? "job-1",
  repo_url: fields.repo_url ?? "https://code.example.org/acme/app.git",
  debug_ssh: fields.debug_ssh,
});
const hold = (fields: Partial<DebugHold> = {}): DebugHold => ({
  requestId: "job-0",
  project: "code.example.org/acme/app",
  vmName: "vm-0",
  expiresAt: new Date("2026-03-01T12:10:00Z"),
  ...fields,
});

describe("projectKey", () => {
  test.each([
    ["https://code.example.org/acme/app.git", "code.example.org/acme/app"],
    ["https://Code.Example.org/Acme/App/", "code.example.org/acme/app"],
    ["ssh://git@code.example.org:2222/acme/app.git", "code.example.org/acme/app"],
    ["git@code.example.org:acme/app.git", "code.example.org/acme/app"],
    ["https://user:token@code.example.org/acme/app", "code.example.org/acme/app"],
    ["https://code.example.org/acme/other", "code.example.org/acme/other"],
  ])("%s → %s", (url, key) => {
    expect(projectKey(url)).toBe(key);
  });
});

describe("decideDebugHold", () => {
  test.each([
    ["not opted in", { debug_ssh: undefined }, "failure", [], { keep: false, logLine: undefined }],
    ["opted out", { debug_ssh: false }, "failure", [], { keep: false, logLine: undefined }],
    ["succeeded", { debug_ssh: true }, "success", [], { keep: false, logLine: undefined }],
    ["cancelled", { debug_ssh: true }, "cancelled", [], { keep: false, logLine: undefined }],
    [
      "failed, opted in",
      { debug_ssh: true },
      "failure",
      [],
      { keep: true, expiresAt: new Date("2026-03-01T12:30:00Z") },
    ],
    [
      "failed, another project held",
      { debug_ssh: true },
      "failure",
      [hold({ project: "code.example.org/acme/other" })],
      { keep: true, expiresAt: new Date("2026-03-01T12:30:00Z") },
    ],
  ] as const)("%s", (_name, fields, conclusion, holds, expected) => {
    expect(decideDebugHold({ request: request(fields), conclusion, holds, now, ttlSecs: 1800 })).toEqual(
      expected,
    );
  });

  test("at most one per project: a second one is refused with a line saying why", () => {
    const decision = decideDebugHold({
      request: request({ debug_ssh: true, repo_url: "git@code.example.org:acme/app.git" }),
      conclusion: "failure",
      holds: [hold()],
      now,
      ttlSecs: 1800,
    });
    expect(decision.keep).toBe(false);
    expect(decision.keep === false && decision.logLine).toBe(
      "Debug SSH: not kept: a debug session for this project is already open (job job-0, until 2026-03-01T12:10:00.000Z); at most one per project. The VM is destroyed.",
    );
  });

  test("the connection line names host, port, user and the deadline", () => {
    expect(
      debugSshLine({
        host: "ci.example.org",
        port: 10042,
        user: "root",
        expiresAt: new Date("2026-03-01T12:30:00Z"),
      }),
    ).toBe(
      "Debug SSH: ssh -p 10042 root@ci.example.org — available until 2026-03-01T12:30:00.000Z (not renewable), then the VM is destroyed.",
    );
  });
});

describe("DebugHolds", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test("a hold expires at its deadline exactly once, and can be released before", async () => {
    vi.useFakeTimers({ now });
    const expired: string[] = [];
    const holds = new DebugHolds((h) => {
      expired.push(h.requestId);
    });
    holds.add(hold({ requestId: "a", expiresAt: new Date("2026-03-01T12:30:00Z") }));
    holds.add(hold({ requestId: "b", expiresAt: new Date("2026-03-01T12:05:00Z") }));
    holds.add(hold({ requestId: "c", expiresAt: new Date("2026-03-01T12:20:00Z") }));
    expect(holds.release("c")?.requestId).toBe("c");
    await vi.advanceTimersByTimeAsync(5 * 60_000 - 1);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(expired).toEqual(["b"]);
    expect(holds.list().map((h) => h.requestId)).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(expired).toEqual(["b", "a"]);
    expect(holds.list()).toEqual([]);
  });

  test("releaseAll ends every hold without firing them", async () => {
    vi.useFakeTimers({ now });
    const expired: string[] = [];
    const holds = new DebugHolds((h) => {
      expired.push(h.requestId);
    });
    holds.add(hold({ requestId: "a" }));
    holds.add(hold({ requestId: "b" }));
    expect(
      holds
        .releaseAll()
        .map((h) => h.requestId)
        .sort(),
    ).toEqual(["a", "b"]);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(expired).toEqual([]);
  });

  test("a failing onExpire does not escape", async () => {
    vi.useFakeTimers({ now });
    const holds = new DebugHolds(async () => {
      throw new Error("destroy failed");
    });
    holds.add(hold({ expiresAt: now }));
    await vi.advanceTimersByTimeAsync(0);
    expect(holds.list()).toEqual([]);
  });
});
