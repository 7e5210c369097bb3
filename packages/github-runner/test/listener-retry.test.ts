import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { AccessTokenProvider } from "../src/auth/access-token.ts";
import {
  type PollFailureContext,
  PollFailures,
  pollFailureOutcome,
  RunnerGoneNotice,
} from "../src/daemon/listener-retry.ts";
import { ActionsServiceError, RunnerRemovedError } from "../src/errors.ts";

// The rules both listeners (broker and legacy flow) follow after a failed poll, in one place.

const log = pino({ level: "silent" });

function context(overrides: Partial<PollFailureContext> = {}) {
  const slept: number[] = [];
  let invalidated = 0;
  const tokens = { invalidate: () => void invalidated++ } as unknown as AccessTokenProvider;
  const sleep = async (ms: number) => void slept.push(ms);
  const c: PollFailureContext = {
    signal: new AbortController().signal,
    wake: new AbortController().signal,
    ephemeralTookJob: false,
    whenIdle: async () => undefined,
    sessionExpired: (e) => e instanceof ActionsServiceError && e.status === 404,
    gone: new RunnerGoneNotice(log, tokens, 300_000, sleep),
    failures: new PollFailures(),
    sleep,
    log,
    failureMessage: "cannot get a message",
    ...overrides,
  };
  return { c, slept, invalidated: () => invalidated };
}

const aborted = () => AbortSignal.abort();
const removed = new RunnerRemovedError("agent 1 not found");
const expired = new ActionsServiceError("get message", "http://x/", 404, "{}");
const outage = new ActionsServiceError("get message", "http://x/", 503, "{}");

describe("pollFailureOutcome", () => {
  it.each([
    ["the listener stopped", outage, { signal: aborted() }, "stopped"],
    ["a long poll woken on purpose", outage, { wake: aborted() }, "woken"],
    ["an ephemeral runner removed after its job", removed, { ephemeralTookJob: true }, "job-done"],
    ["a runner removed", removed, {}, "recreate"],
    ["an expired session", expired, {}, "recreate"],
    ["a server failing", outage, {}, "retry"],
  ] as const)("%s → %s", async (_what, error, overrides, outcome) => {
    const { c } = context(overrides);
    expect(await pollFailureOutcome(error, c)).toBe(outcome);
  });

  it("a removed runner: the token dropped and the slow retry waited; a failure: the reference's backoff", async () => {
    const gone = context();
    await pollFailureOutcome(removed, gone.c);
    expect(gone.invalidated()).toBe(1);
    expect(gone.slept).toEqual([300_000]);
    const failing = context();
    await pollFailureOutcome(outage, failing.c);
    expect(failing.slept).toHaveLength(1);
    expect(failing.slept[0]).toBeGreaterThanOrEqual(15_000);
    expect(failing.slept[0]).toBeLessThanOrEqual(30_000);
  });
});
