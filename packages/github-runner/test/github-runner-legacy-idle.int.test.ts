import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRemovedWhileIdle, GitHubRig } from "./github-support.ts";

// The legacy (GHES) flow's listener while idle, against the test server (no orchestrator, no
// VM): its access tokens expiring under the message polls (and one poll refused with 401), and
// the runner removed on the server. Access tokens live 3 s here.

let rig: GitHubRig;

beforeAll(async () => {
  rig = await GitHubRig.start("legacy-idle", {
    withOrchestrator: false,
    server: { useV2Flow: false, accessTokenLifetimeMs: 3000 },
  });
  await rig.register();
  await rig.startDaemon();
  await eventually(
    "the runner polling",
    () => rig.server.calls.some((c) => c.endpoint === "legacy-get-message"),
    30_000,
  );
});

afterAll(async () => {
  await rig?.stop();
});

const errorLines = () => rig.log.lines.filter((l) => (l["level"] as number) >= 50);

describe("github-runner in the legacy (GHES) flow, idle", () => {
  it("polls on as its access tokens expire and after a 401: new tokens, one per expiry, no error", async () => {
    const grantsBefore = rig.server.accessTokenGrants.length;
    const callsBefore = rig.server.calls.length;
    const logBefore = rig.log.lines.length;
    rig.server.failNext("legacy-get-message", { status: 401, body: { message: "token expired" } });
    await eventually(
      "three new tokens",
      () => rig.server.accessTokenGrants.length - grantsBefore >= 3,
      30_000,
    );
    const polls = rig.server.calls.slice(callsBefore).filter((c) => c.endpoint === "legacy-get-message");
    const refused = polls.findIndex((c) => c.injected);
    expect(refused).toBeGreaterThanOrEqual(0);
    // Polling went on after the 401, answered.
    await eventually("a poll answered after the 401", () =>
      rig.server.calls
        .slice(callsBefore)
        .filter((c) => c.endpoint === "legacy-get-message")
        .slice(refused + 1)
        .some((c) => c.status === 200 || c.status === 202),
    );
    // Not a token per poll: about one per 3 s lifetime (plus the 401's).
    const grants = rig.server.accessTokenGrants.length - grantsBefore;
    expect(grants).toBeLessThan(15);
    expect(rig.server.sessions().filter((s) => s.deletedAt === undefined)).toHaveLength(1);
    expect(errorLines()).toEqual([]);
    // The 401 was retried at once with a new token (as the reference's HTTP handler does), not
    // taken for a failed poll (that would warn and wait 15-30 s).
    expect(rig.log.lines.slice(logBefore).filter((l) => (l["level"] as number) >= 40)).toEqual([]);
  });

  it("a runner removed on the server while idle: one clear error line, then a slow retry, no crash", async () => {
    await expectRemovedWhileIdle(rig);
    // No polls meanwhile: the slow retry waits.
    const pollsAfter = rig.server.calls
      .slice(-50)
      .filter((c) => c.endpoint === "legacy-get-message" && c.at.getTime() > Date.now() - 3000);
    expect(pollsAfter).toEqual([]);
    // The daemon is still up, waiting (it exits only when stopped: code 0, as documented).
    expect(rig.daemon).toBeDefined();
    await rig.daemon?.stop();
    rig.daemon = undefined;
  });
});
